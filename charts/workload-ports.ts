import type { Construct } from 'constructs';
import * as k8s from './k8s.js';
import { podLabels, selectorLabels } from '../lib/k3s/names.js';
import type { EffectivePort, Service } from '../lib/model/service.js';

/** Kubernetes port names: at most 15 characters, unique within the pod. */
export function containerPorts(ports: readonly EffectivePort[]): { name: string; port: number; protocol: 'TCP' | 'UDP'; entry: boolean }[] {
  const seen = new Set<string>();
  return ports.map((p) => {
    const protocol = p.protocol.toUpperCase() as 'TCP' | 'UDP';
    let name = p.name.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 15);
    if (seen.has(name)) name = `${name.slice(0, 11)}-${protocol.toLowerCase()}`;
    seen.add(name);
    return { name, port: p.port, protocol, entry: p.entry };
  });
}

/** The service's ClusterIP Service, and a LoadBalancer for its entry ports. */
export function renderServicePorts(scope: Construct, service: Service): void {
  if (service.ports.length === 0) return;
  const namespace = service.zone.namespace;
  const ports = containerPorts(service.ports);
  new k8s.KubeService(scope, 'service', {
    metadata: { name: service.name, namespace, labels: podLabels(service) },
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(service),
      ports: ports.map((p) => ({ name: p.name, port: p.port, targetPort: k8s.IntOrString.fromNumber(p.port), protocol: p.protocol })),
    },
  });
  const entry = ports.filter((p) => p.entry);
  if (entry.length > 0) {
    new k8s.KubeService(scope, 'entry', {
      metadata: { name: `${service.name}-entry`, namespace, labels: podLabels(service) },
      spec: {
        // k3s ServiceLB (klipper-lb) binds these on the nodes; Local keeps the client's address.
        type: 'LoadBalancer',
        externalTrafficPolicy: 'Local',
        selector: selectorLabels(service),
        ports: entry.map((p) => ({ name: p.name, port: p.port, targetPort: k8s.IntOrString.fromNumber(p.port), protocol: p.protocol })),
      },
    });
  }
}
