import type { ConfigIssue } from '../config/errors.js';
import type { QuotaConfig } from '../config/schema.js';
import type { Platform } from '../model/platform.js';
import type { Zone } from '../model/zone.js';
import { rolloutSurgePods } from './workload-kind.js';
import { maxPods, podResources } from './resources.js';

export interface ZoneQuota {
  readonly cpuRequests: number;
  readonly cpuLimits: number;
  readonly memoryRequestsGb: number;
  readonly memoryLimitsGb: number;
}

/** Default namespace quotas: one for AI and data services, GPU workloads and monitoring; a small one for DNS. */
const AI_SERVICES: ZoneQuota = { cpuRequests: 8, cpuLimits: 24, memoryRequestsGb: 48, memoryLimitsGb: 64 };
const DEFAULT_QUOTAS: Readonly<Record<string, ZoneQuota>> = {
  edge: AI_SERVICES,
  services: AI_SERVICES,
  gpu: { cpuRequests: 2, cpuLimits: 16, memoryRequestsGb: 16, memoryLimitsGb: 32 },
  monitoring: { cpuRequests: 4, cpuLimits: 8, memoryRequestsGb: 8, memoryLimitsGb: 16 },
  dmz: { cpuRequests: 2, cpuLimits: 4, memoryRequestsGb: 2, memoryLimitsGb: 4 },
};

/** The LimitRange of every zone: defaults for a container that states nothing, and the bounds. */
export interface ZoneLimitRange {
  readonly defaultRequest: { readonly cpu: number; readonly memoryGb: number };
  readonly default: { readonly cpu: number; readonly memoryGb: number };
  readonly min: { readonly cpu: number; readonly memoryGb: number };
  readonly max: { readonly cpu: number; readonly memoryGb: number };
}

const DEFAULT_LIMIT_RANGE: ZoneLimitRange = {
  defaultRequest: { cpu: 0.1, memoryGb: 0.25 },
  default: { cpu: 1, memoryGb: 2 },
  min: { cpu: 0.01, memoryGb: 1 / 32 },
  max: { cpu: 16, memoryGb: 32 },
};

const KEYS = ['cpuRequests', 'cpuLimits', 'memoryRequestsGb', 'memoryLimitsGb'] as const;

/**
 * What the zone's pods ask for at most: every replica of every HPA and every per-node pod, plus
 * the largest rolling-update surge of one workload (a quota that leaves no room for the surge pod
 * refuses it, and the rollout stalls). One rollout at a time is what ArgoCD's sync of a commit does
 * per workload; two workloads surging at once may wait for each other's old pods to go.
 */
export function zoneDemand(platform: Platform, zone: Zone): ZoneQuota {
  const demand = { cpuRequests: 0, cpuLimits: 0, memoryRequestsGb: 0, memoryLimitsGb: 0 };
  const surge = { cpuRequests: 0, cpuLimits: 0, memoryRequestsGb: 0, memoryLimitsGb: 0 };
  for (const service of platform.services) {
    if (service.zone !== zone || service.external) continue;
    const pods = maxPods(service);
    const r = podResources(service.resources);
    demand.cpuRequests += r.cpuRequest * pods;
    demand.cpuLimits += r.cpuLimit * pods;
    demand.memoryRequestsGb += r.memoryRequestGb * pods;
    demand.memoryLimitsGb += r.memoryLimitGb * pods;
    const extra = rolloutSurgePods(service);
    surge.cpuRequests = Math.max(surge.cpuRequests, r.cpuRequest * extra);
    surge.cpuLimits = Math.max(surge.cpuLimits, r.cpuLimit * extra);
    surge.memoryRequestsGb = Math.max(surge.memoryRequestsGb, r.memoryRequestGb * extra);
    surge.memoryLimitsGb = Math.max(surge.memoryLimitsGb, r.memoryLimitGb * extra);
  }
  for (const key of KEYS) demand[key] += surge[key];
  return demand;
}

/**
 * The zone's ResourceQuota: the configured figures, or the defaults raised to what the zone's own
 * pods need (a quota that rejects the platform's pods is a bug, not a limit). A configured figure
 * below that need is a config error.
 */
export function zoneQuota(platform: Platform, zone: Zone, issues: ConfigIssue[]): ZoneQuota {
  const configured: QuotaConfig = platform.config.k3s.quotas[zone.name] ?? {};
  const defaults = DEFAULT_QUOTAS[zone.name] ?? AI_SERVICES;
  const demand = zoneDemand(platform, zone);
  const quota = { ...defaults };
  for (const key of KEYS) {
    const need = ceilTenth(demand[key]);
    const set = configured[key];
    if (set !== undefined && set < need) {
      issues.push({
        path: ['k3s', 'quotas', zone.name, key],
        message: `got ${set}; the pods of zone "${zone.name}" need ${need} at most (every replica and per-node pod, and the largest rolling-update surge, counted); set at least ${need} or shrink them`,
      });
    }
    quota[key] = set ?? Math.max(defaults[key], need);
  }
  return quota;
}

/** The zone LimitRange, its max raised to the zone's largest container so none is rejected. */
export function zoneLimitRange(platform: Platform, zone: Zone): ZoneLimitRange {
  let cpu = DEFAULT_LIMIT_RANGE.max.cpu;
  let memoryGb = DEFAULT_LIMIT_RANGE.max.memoryGb;
  for (const service of platform.services) {
    if (service.zone !== zone) continue;
    cpu = Math.max(cpu, service.resources.cpus);
    memoryGb = Math.max(memoryGb, service.resources.memoryGb);
  }
  return { ...DEFAULT_LIMIT_RANGE, max: { cpu, memoryGb } };
}

function ceilTenth(n: number): number {
  return Math.ceil(n * 10 - 1e-9) / 10;
}
