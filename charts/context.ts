import type { Platform } from '../lib/model/platform.js';
import type { NodeGpuSharing } from '../lib/model/gpu-assignment.js';
import type { Service } from '../lib/model/service.js';
import { Prometheus } from '../lib/services/prometheus.js';

/** What every chart reads besides the platform: decisions made once for the whole k3s render. */
export interface K3sContext {
  readonly platform: Platform;
  /** Time-slicing per GPU node (the model's `platform.gpuAssignment.nodes`). */
  readonly gpuSharing: readonly NodeGpuSharing[];
}

/**
 * Namespaces in which `service` discovers pods through the Kubernetes API: Prometheus finds the
 * DaemonSet pods of per-node exporters that way, so it needs read access to pods there and egress
 * to the API server.
 */
export function podDiscoveryNamespaces(service: Service): string[] {
  if (!(service instanceof Prometheus)) return [];
  return [...new Set(service.targets.filter((t) => t.perNode).map((t) => t.zone.namespace))].sort();
}
