import type { Service } from '../model/service.js';

/*
 * Which Kubernetes workload a service becomes and how it rolls out: facts of the model read by
 * the charts, the quotas and the READMEs alike. Kept free of cdk8s.
 */

/** The workload kinds a service becomes. */
export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'Job';

/**
 * Deployment for stateless services and for the edge (entry ports) and scaled ones, StatefulSet
 * for services that own their data, DaemonSet for per-node services, Job for one-shots.
 */
export function workloadKind(service: Service): WorkloadKind {
  if (service.oneShot) return 'Job';
  if (service.perNode) return 'DaemonSet';
  const ownsData = service.volumesFor('k3s').some((v) => !('hostPath' in v));
  const entry = service.ports.some((p) => p.entry);
  return ownsData && !entry && !service.scaling ? 'StatefulSet' : 'Deployment';
}

/** How a Deployment replaces its pods: Recreate when a ReadWriteOnce claim cannot be mounted twice. */
export function deploymentStrategy(service: Service): 'Recreate' | 'RollingUpdate' {
  const usesClaims = service.volumesFor('k3s').some((v) => !('hostPath' in v));
  return usesClaims && !service.scaling ? 'Recreate' : 'RollingUpdate';
}

/**
 * Extra pods a rolling update runs beside the old ones: a RollingUpdate Deployment surges by its
 * default maxSurge of 25%, rounded up (kubernetes pkg/controller/deployment/util/deployment_util.go,
 * ResolveFenceposts), so one pod at 1-4 replicas. Recreate stops the old pods first; a StatefulSet
 * replaces one pod at a time and a DaemonSet's default maxSurge is 0; a hook Job is deleted before
 * it is created again (BeforeHookCreation).
 */
export function rolloutSurgePods(service: Service): number {
  if (workloadKind(service) !== 'Deployment' || deploymentStrategy(service) === 'Recreate') return 0;
  const replicas = service.scaling?.maxReplicas ?? 1;
  return Math.ceil(replicas * 0.25);
}
