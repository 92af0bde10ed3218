import type { Construct } from 'constructs';
import * as k8s from './k8s.js';
import { podLabels } from '../lib/k3s/names.js';
import type { WorkloadKind } from '../lib/k3s/workload-kind.js';
import type { EffectiveVolume, Service } from '../lib/model/service.js';

/** Where a DaemonSet keeps per-node data (a ReadWriteOnce claim cannot follow it to every node). */
const NODE_DATA_ROOT = '/var/lib/platform';

export type DataVolume = Extract<EffectiveVolume, { name: string }>;

/** What a service's volumes become on k3s: claims, pod volumes, mounts. */
export interface WorkloadStorageProps {
  readonly service: Service;
  readonly kind: WorkloadKind;
  /** Data volume names used by more than one service of the namespace: one shared claim each. */
  readonly sharedVolumes: ReadonlySet<string>;
  /** StorageClass of every claim; undefined: the cluster's default. */
  readonly storageClass?: string;
}

function dataVolumes(service: Service): DataVolume[] {
  return service.volumesFor('k3s').filter((v): v is DataVolume => !('hostPath' in v));
}

/** Volumes a StatefulSet claims per pod; shared ones become standalone claims. */
export function ownVolumes(props: WorkloadStorageProps): DataVolume[] {
  if (props.kind !== 'StatefulSet') return [];
  return dataVolumes(props.service).filter((v) => !props.sharedVolumes.has(v.name));
}

export function claimSpec(volume: DataVolume, storageClass: string | undefined): k8s.PersistentVolumeClaimSpec {
  return {
    accessModes: ['ReadWriteOnce'],
    storageClassName: storageClass,
    resources: { requests: { storage: k8s.Quantity.fromString(`${volume.sizeGb}Gi`) } },
  };
}

/**
 * Standalone claims, in `scope` (the stack chart): for Deployments and Jobs, and volumes shared
 * within the namespace.
 */
export function renderClaims(scope: Construct, props: WorkloadStorageProps): void {
  const { service } = props;
  if (props.kind === 'DaemonSet') return;
  const own = new Set(ownVolumes(props).map((v) => v.name));
  for (const volume of dataVolumes(service)) {
    if (own.has(volume.name)) continue;
    // A shared claim is declared by every user with the same spec; the stack chart keeps one.
    const id = `claim-${service.zone.namespace}-${volume.name}`;
    if (scope.node.tryFindChild(id)) continue;
    new k8s.KubePersistentVolumeClaim(scope, id, {
      metadata: {
        name: volume.name,
        namespace: service.zone.namespace,
        labels: { ...podLabels(service) },
        // Deleting the stack must never delete the data.
        annotations: { 'argocd.argoproj.io/sync-options': 'Delete=false' },
      },
      spec: claimSpec(volume, props.storageClass),
    });
  }
}

export function volumeMounts(service: Service): k8s.VolumeMount[] | undefined {
  const mounts: k8s.VolumeMount[] = [];
  service.volumesFor('k3s').forEach((v, i) => {
    const propagation = 'hostPath' in v && v.propagation === 'rslave' ? 'HostToContainer' : undefined;
    mounts.push({ name: volumeName(v, i), mountPath: v.mountPath, readOnly: v.readOnly ? true : undefined, mountPropagation: propagation });
  });
  for (const file of service.configFiles) {
    mounts.push({ name: 'config', mountPath: file.mountPath, subPath: configKey(file.name), readOnly: file.readOnly ? true : undefined });
  }
  return mounts.length > 0 ? mounts : undefined;
}

export function podVolumes(props: WorkloadStorageProps, withConfig: boolean): k8s.Volume[] | undefined {
  const { service } = props;
  const own = new Set(ownVolumes(props).map((v) => v.name));
  const volumes: k8s.Volume[] = [];
  service.volumesFor('k3s').forEach((v, i) => {
    if ('hostPath' in v) {
      volumes.push({ name: volumeName(v, i), hostPath: { path: v.hostPath } });
    } else if (props.kind === 'DaemonSet') {
      volumes.push({ name: v.name, hostPath: { path: `${NODE_DATA_ROOT}/${service.name}/${v.name}`, type: 'DirectoryOrCreate' } });
    } else if (!own.has(v.name)) {
      volumes.push({ name: v.name, persistentVolumeClaim: { claimName: v.name } });
    }
  });
  if (withConfig) volumes.push({ name: 'config', configMap: { name: `${service.name}-config` } });
  return volumes.length > 0 ? volumes : undefined;
}

/** ConfigMap key of a config file (`rules/alerts.yml` -> `rules_alerts.yml`). */
export function configKey(name: string): string {
  return name.replace(/\//g, '_');
}

function volumeName(volume: EffectiveVolume, index: number): string {
  return 'hostPath' in volume ? `host-${index}` : volume.name;
}
