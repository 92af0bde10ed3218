import { clusterDns } from '../model/link-plan.js';
import type { Secret } from '../model/secret.js';
import type { Service } from '../model/service.js';

/*
 * Names and labels every k3s object agrees on. Kept free of cdk8s so rendered configs
 * (Prometheus service discovery) can use them without loading the k3s target.
 */

/** Selects the pods of one service. */
export const NAME_LABEL = 'app.kubernetes.io/name';
export const PART_OF_LABEL = 'app.kubernetes.io/part-of';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'platform';
export const ZONE_LABEL = 'homelab.platform/zone';
export const VLAN_LABEL = 'homelab.platform/vlan';
/** Immutable label Kubernetes puts on every namespace; NetworkPolicies select namespaces by it. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
export const HOSTNAME_LABEL = 'kubernetes.io/hostname';
/** Label and taint of GPU nodes: `nvidia.com/gpu.present=true`, `nvidia.com/gpu=present:NoSchedule`. */
export const GPU_PRESENT_LABEL = 'nvidia.com/gpu.present';
export const GPU_RESOURCE = 'nvidia.com/gpu';
export const GPU_RUNTIME_CLASS = 'nvidia';
/**
 * The same for nodes with AMD GPUs: `amd.com/gpu` is the resource ROCm/k8s-device-plugin
 * advertises (README.md "amd.com/gpu"); the label and taint follow the NVIDIA convention. No
 * RuntimeClass: ROCm needs only the device nodes the plugin hands to the pod.
 */
export const AMD_GPU_PRESENT_LABEL = 'amd.com/gpu.present';
export const AMD_GPU_RESOURCE = 'amd.com/gpu';

/** The label, taint key and resource of a node's GPUs, by vendor. */
export function gpuKeys(vendor: 'nvidia' | 'amd'): { label: string; resource: string; runtimeClass?: string } {
  return vendor === 'amd'
    ? { label: AMD_GPU_PRESENT_LABEL, resource: AMD_GPU_RESOURCE }
    : { label: GPU_PRESENT_LABEL, resource: GPU_RESOURCE, runtimeClass: GPU_RUNTIME_CLASS };
}
export const SYNC_WAVE = 'argocd.argoproj.io/sync-wave';

/** In-cluster DNS name of a service (the link plan's rule). */
export const serviceDns: (service: Service) => string = clusterDns;

/** Kubernetes Secret holding one platform secret: `PG_PASSWORD` -> `pg-password`, key `PG_PASSWORD`. */
export function secretObjectName(secret: Secret): string {
  return secret.name.toLowerCase().replace(/_/g, '-');
}

export function selectorLabels(service: Service): Record<string, string> {
  return { [NAME_LABEL]: service.name };
}

export function podLabels(service: Service): Record<string, string> {
  return {
    ...selectorLabels(service),
    [PART_OF_LABEL]: service.stackName,
    [MANAGED_BY_LABEL]: MANAGED_BY,
    [ZONE_LABEL]: service.zone.name,
  };
}

/**
 * The name kubeseal looks the controller up by (`--controller-name` defaults to
 * `sealed-secrets-controller`, `--controller-namespace` to `kube-system`: kubeseal's cmd/kubeseal/main.go);
 * the chart would otherwise name it after the release, `sealed-secrets`.
 */
export const SEALED_SECRETS_CONTROLLER = { name: 'sealed-secrets-controller', namespace: 'kube-system' } as const;
