import { Construct } from 'constructs';
import * as k8s from './k8s.js';
import { podLabels, selectorLabels } from '../lib/k3s/names.js';
import { K3sResolver } from '../lib/k3s/resolver.js';
import { deploymentStrategy, workloadKind, type WorkloadKind } from '../lib/k3s/workload-kind.js';
import type { Service } from '../lib/model/service.js';
import type { K3sContext } from './context.js';
import { renderApiAccess } from './workload-api-access.js';
import { renderAutoscaler } from './workload-autoscaler.js';
import { podTemplate } from './workload-pod.js';
import { renderServicePorts } from './workload-ports.js';
import { claimSpec, configKey, ownVolumes, renderClaims, type WorkloadStorageProps } from './workload-storage.js';

// The concerns of a workload live beside it: the pod and its container (workload-pod.ts), the
// environment (workload-env.ts), probes (workload-probes.ts), volumes and claims
// (workload-storage.ts), security contexts (workload-security.ts), Services and ports
// (workload-ports.ts), the autoscaler (workload-autoscaler.ts) and API access
// (workload-api-access.ts). Which kind a service becomes is a model fact (lib/k3s/workload-kind.ts).
export { deploymentStrategy, rolloutSurgePods, workloadKind, type WorkloadKind } from '../lib/k3s/workload-kind.js';
export { CONFIG_CHECKSUM, GPU_TOLERATION, gpuToleration } from './workload-pod.js';
export { containerPorts } from './workload-ports.js';
export { configKey } from './workload-storage.js';

/**
 * A StatefulSet whose volumeClaimTemplates carry `apiVersion: v1` and `kind: PersistentVolumeClaim`,
 * as the API server returns them (the typed props have no place for either). Without them
 * server-side apply finds a difference on every comparison and the StatefulSet never leaves
 * OutOfSync.
 */
class StatefulSetWithTypedClaims extends k8s.KubeStatefulSet {
  override toJson(): any {
    const json = super.toJson();
    const templates = json.spec?.volumeClaimTemplates as Record<string, unknown>[] | undefined;
    if (templates) json.spec.volumeClaimTemplates = templates.map((t) => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', ...t }));
    return json;
  }
}

export interface ServiceWorkloadProps {
  readonly context: K3sContext;
  /** Data volume names used by more than one service of the namespace: one shared claim each. */
  readonly sharedVolumes: ReadonlySet<string>;
}

/**
 * Everything one service becomes on k3s: its workload, Service (and LoadBalancer for entry
 * ports), ConfigMap, claims, autoscaler and API access. Secrets are referenced by name only.
 */
export class ServiceWorkload extends Construct {
  readonly kind: WorkloadKind;

  constructor(scope: Construct, service: Service, props: ServiceWorkloadProps) {
    super(scope, service.name);
    this.kind = workloadKind(service);
    const storage: WorkloadStorageProps = {
      service,
      kind: this.kind,
      sharedVolumes: props.sharedVolumes,
      storageClass: props.context.platform.config.k3s.storageClass,
    };
    const meta = { name: service.name, namespace: service.zone.namespace, labels: podLabels(service) };
    const configData = renderConfigFiles(service);
    if (Object.keys(configData).length > 0) {
      new k8s.KubeConfigMap(this, 'config', { metadata: { ...meta, name: `${service.name}-config` }, data: configData });
    }
    renderClaims(this.node.scope as Construct, storage);
    const template = podTemplate({ ...storage, platform: props.context.platform, configData });
    const replicas = service.profile ? 0 : undefined;
    const selector = { matchLabels: selectorLabels(service) };
    switch (this.kind) {
      case 'Deployment': {
        new k8s.KubeDeployment(this, 'workload', {
          metadata: meta,
          spec: {
            // An autoscaled Deployment leaves replicas to the HPA, or ArgoCD and the HPA fight over it.
            replicas: service.scaling ? undefined : (replicas ?? 1),
            selector,
            // A ReadWriteOnce claim cannot be mounted by the old and the new pod at once on different nodes.
            strategy: deploymentStrategy(service) === 'Recreate' ? { type: 'Recreate' } : undefined,
            template,
          },
        });
        break;
      }
      case 'StatefulSet': {
        new StatefulSetWithTypedClaims(this, 'workload', {
          metadata: meta,
          spec: {
            serviceName: service.name,
            replicas: replicas ?? 1,
            selector,
            template,
            volumeClaimTemplates: ownVolumes(storage).map((v) => ({
              metadata: { name: v.name, labels: podLabels(service) },
              spec: claimSpec(v, storage.storageClass),
            })),
          },
        });
        break;
      }
      case 'DaemonSet':
        new k8s.KubeDaemonSet(this, 'workload', { metadata: meta, spec: { selector, template } });
        break;
      case 'Job':
        new k8s.KubeJob(this, 'workload', {
          metadata: {
            ...meta,
            annotations: {
              // Runs after the rest of its Application is healthy (Ollama up before the pull), on every
              // sync; the pulls are idempotent.
              'argocd.argoproj.io/hook': 'PostSync',
              'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation',
            },
          },
          spec: { backoffLimit: 4, template: { ...template, spec: { ...template.spec, restartPolicy: 'OnFailure' } as k8s.PodSpec } },
        });
        break;
    }
    renderServicePorts(this, service);
    renderAutoscaler(this, service);
    renderApiAccess(this, service);
  }
}

/** Config files keyed for a ConfigMap (`rules/alerts.yml` -> `rules_alerts.yml`). */
function renderConfigFiles(service: Service): Record<string, string> {
  const node = service.nodes[0];
  if (!node) return {};
  const resolver = new K3sResolver(service, node);
  const data: Record<string, string> = {};
  for (const file of service.configFiles) data[configKey(file.name)] = file.content(resolver);
  return data;
}
