import { createHash } from 'node:crypto';
import * as k8s from './k8s.js';
import { GPU_RESOURCE, GPU_RUNTIME_CLASS, gpuKeys, HOSTNAME_LABEL, podLabels } from '../lib/k3s/names.js';
import { cpuQuantity, memoryQuantity, podResources } from '../lib/k3s/resources.js';
import type { Platform } from '../lib/model/platform.js';
import type { Service } from '../lib/model/service.js';
import { escapeDollars } from '../lib/model/values.js';
import { podDiscoveryNamespaces } from './context.js';
import { multusNetworkName } from './vlans.js';
import { containerEnvironment } from './workload-env.js';
import { containerPorts } from './workload-ports.js';
import { probeFor } from './workload-probes.js';
import { containerSecurityContext, podSecurityContext } from './workload-security.js';
import { podVolumes, volumeMounts, type WorkloadStorageProps } from './workload-storage.js';

/** Toleration of the GPU nodes' taint (`nvidia.com/gpu=present:NoSchedule`, the conventional taint of dedicated GPU nodes). */
export const GPU_TOLERATION = { key: GPU_RESOURCE, operator: 'Equal', value: 'present', effect: 'NoSchedule' } as const;

/** The toleration of the taint of a vendor's GPU nodes (`amd.com/gpu=present:NoSchedule` on AMD ones). */
export function gpuToleration(vendor: 'nvidia' | 'amd'): { key: string; operator: 'Equal'; value: 'present'; effect: 'NoSchedule' } {
  return { ...GPU_TOLERATION, key: gpuKeys(vendor).resource };
}
/** Annotation that rolls the pods when a rendered config changes (subPath mounts are never refreshed). */
export const CONFIG_CHECKSUM = 'checksum/config';

/** What the pod template of one service is made from. */
export interface PodTemplateProps extends WorkloadStorageProps {
  /** GPU limits come from its assignment (`gpuAssignment.k3sLimit`). */
  readonly platform: Platform;
  /** The ConfigMap data of its config files, keyed by `configKey`. */
  readonly configData: Readonly<Record<string, string>>;
}

/** The pod of a service: placement, GPU runtime, host namespaces, API access, security, its one container and volumes. */
export function podTemplate(props: PodTemplateProps): k8s.PodTemplateSpec {
  const { service, configData } = props;
  const annotations: Record<string, string> = {};
  if (Object.keys(configData).length > 0) annotations[CONFIG_CHECKSUM] = checksum(configData);
  if (service.zone.multus) annotations['k8s.v1.cni.cncf.io/networks'] = multusNetworkName(service.zone);
  const gpuVendors = [...new Set(service.nodes.flatMap((n) => (n.gpuVendor ? [n.gpuVendor] : [])))].sort().reverse();
  const usesGpu = service.gpu !== undefined || service.gpuTelemetry;
  const security = service.security;
  const needsApi = podDiscoveryNamespaces(service).length > 0;
  return {
    metadata: { labels: podLabels(service), annotations: Object.keys(annotations).length > 0 ? annotations : undefined },
    spec: {
      ...placement(service),
      tolerations: gpuVendors.length > 0 ? gpuVendors.map(gpuToleration) : undefined,
      runtimeClassName: usesGpu && gpuVendors.includes('nvidia') ? GPU_RUNTIME_CLASS : undefined,
      hostPid: security.hostPid ? true : undefined,
      hostNetwork: security.hostNetwork ? true : undefined,
      // Cluster DNS names still resolve from the host's network namespace.
      dnsPolicy: security.hostNetwork ? 'ClusterFirstWithHostNet' : undefined,
      // Service links would put OLLAMA_PORT=tcp://… into every pod of the namespace; Ollama reads that name.
      enableServiceLinks: false,
      automountServiceAccountToken: needsApi,
      serviceAccountName: needsApi ? service.name : undefined,
      securityContext: podSecurityContext(service),
      containers: [container(service, props.platform)],
      volumes: podVolumes(props, Object.keys(configData).length > 0),
    },
  };
}

/** On its node by host name; GPU services also by the GPU label; per-node services on each of their nodes. */
function placement(service: Service): Pick<k8s.PodSpec, 'nodeSelector' | 'affinity'> {
  if (service.perNode) {
    return {
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: HOSTNAME_LABEL, operator: 'In', values: service.nodes.map((n) => n.name) }] }],
          },
        },
      },
    };
  }
  const selector: Record<string, string> = { [HOSTNAME_LABEL]: service.homeNode.name };
  const vendor = service.homeNode.gpuVendor;
  if (service.gpu && vendor) selector[gpuKeys(vendor).label] = 'true';
  return { nodeSelector: selector };
}

function container(service: Service, platform: Platform): k8s.Container {
  const resources = podResources(service.resources);
  const limits: Record<string, k8s.Quantity> = {
    cpu: k8s.Quantity.fromString(cpuQuantity(resources.cpuLimit)),
    memory: k8s.Quantity.fromString(memoryQuantity(resources.memoryLimitGb)),
  };
  const vendor = service.perNode ? undefined : service.homeNode.gpuVendor;
  if (service.gpu && vendor) {
    limits[gpuKeys(vendor).resource] = k8s.Quantity.fromNumber(platform.gpuAssignment.k3sLimit(service, service.homeNode));
  }
  const env = containerEnvironment(service);
  const probe = service.healthCheck ? probeFor(service.healthCheck) : undefined;
  return {
    name: service.name,
    image: service.image,
    command: service.entrypoint ? [...service.entrypoint].map(escapeDollars) : undefined,
    args: service.commandFor('k3s')?.map(escapeDollars),
    env: env.length > 0 ? env : undefined,
    ports: service.ports.length > 0 ? containerPorts(service.ports).map((p) => ({ name: p.name, containerPort: p.port, protocol: p.protocol })) : undefined,
    resources: {
      requests: {
        cpu: k8s.Quantity.fromString(cpuQuantity(resources.cpuRequest)),
        memory: k8s.Quantity.fromString(memoryQuantity(resources.memoryRequestGb)),
      },
      limits,
    },
    livenessProbe: probe ? { ...probe, initialDelaySeconds: service.healthCheck?.startPeriodSeconds } : undefined,
    readinessProbe: probe,
    securityContext: containerSecurityContext(service),
    volumeMounts: volumeMounts(service),
  };
}

function checksum(data: Readonly<Record<string, string>>): string {
  const hash = createHash('sha256');
  for (const key of Object.keys(data).sort()) hash.update(`${key}\0${data[key]}\0`);
  return hash.digest('hex');
}
