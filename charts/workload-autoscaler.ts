import type { Construct } from 'constructs';
import * as k8s from './k8s.js';
import { podLabels } from '../lib/k3s/names.js';
import type { Service } from '../lib/model/service.js';

/** A HorizontalPodAutoscaler on CPU for a service that scales (its workload is a Deployment). */
export function renderAutoscaler(scope: Construct, service: Service): void {
  if (!service.scaling) return;
  new k8s.KubeHorizontalPodAutoscalerV2(scope, 'hpa', {
    metadata: { name: service.name, namespace: service.zone.namespace, labels: podLabels(service) },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: service.name },
      minReplicas: service.scaling.minReplicas,
      maxReplicas: service.scaling.maxReplicas,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: service.scaling.cpuPercent } } }],
      // Scale up within 15 s, down only after 5 minutes of calm: no flapping on bursty chat load.
      behavior: {
        scaleUp: { stabilizationWindowSeconds: 15 },
        scaleDown: { stabilizationWindowSeconds: 300 },
      },
    },
  });
}
