import type { ResourceSpec, Service } from '../model/service.js';

/*
 * The model states limits (what Compose enforces). Kubernetes also schedules by requests: a
 * quarter of the CPU limit and half of the memory limit, so a node can hold its services' bursts
 * without reserving them. One rule, here, for pods, quotas and capacity notes alike.
 */

export const CPU_REQUEST_SHARE = 0.25;
export const MEMORY_REQUEST_SHARE = 0.5;
/** The smallest CPU request LimitRange allows (10m). */
const MIN_CPU = 0.01;

export interface PodResources {
  readonly cpuRequest: number;
  readonly cpuLimit: number;
  readonly memoryRequestGb: number;
  readonly memoryLimitGb: number;
}

export function podResources(resources: ResourceSpec): PodResources {
  return {
    cpuRequest: Math.max(MIN_CPU, round3(resources.cpus * CPU_REQUEST_SHARE)),
    cpuLimit: resources.cpus,
    memoryRequestGb: resources.memoryGb * MEMORY_REQUEST_SHARE,
    memoryLimitGb: resources.memoryGb,
  };
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/** `2`, `500m`. */
export function cpuQuantity(cores: number): string {
  return Number.isInteger(cores) ? String(cores) : `${Math.round(cores * 1000)}m`;
}

/** `4Gi`, `512Mi`. */
export function memoryQuantity(gb: number): string {
  return Number.isInteger(gb) ? `${gb}Gi` : `${Math.round(gb * 1024)}Mi`;
}

/**
 * Pods a service may run at most: its HPA maximum, one per node for per-node services, and the
 * on-demand ones (replicas 0) counted as if started, so a quota never blocks scaling them up.
 */
export function maxPods(service: Service): number {
  if (service.perNode) return service.nodes.length;
  return service.scaling?.maxReplicas ?? 1;
}
