import type { Construct } from 'constructs';
import { renderBackupScript, renderRestoreScript, renderVerifyScript } from '../lib/configs/backup-scripts.js';
import * as k8s from './k8s.js';
import { HOSTNAME_LABEL, MANAGED_BY, MANAGED_BY_LABEL, NAME_LABEL, PART_OF_LABEL, secretObjectName } from '../lib/k3s/names.js';
import type { Secret } from '../lib/model/secret.js';
import { BACKUP_PATHS, backupPlan, byNamespace, METRICS_HOST_DIR, RESTIC_IMAGE, type BackupPlan, type NodeBackup } from '../lib/services/backup.js';
import type { K3sContext } from './context.js';
import { INTERNET } from './network-policies-chart.js';
import { OutputChart } from './output-chart.js';
import { workloadKind } from './service-workload.js';

/** Folder and ArgoCD Application of the backup jobs. */
export const BACKUP_APP = 'backup';

/**
 * The claim a service's volume is on: a StatefulSet's own claim is `<template>-<set>-0`
 * (Kubernetes names volumeClaimTemplates claims so), a Deployment's or Job's is the volume's name.
 */
export function claimName(backup: NodeBackup['volumes'][number]): string {
  return workloadKind(backup.service) === 'StatefulSet' ? `${backup.volume}-${backup.service.name}-0` : backup.volume;
}

/**
 * k3s: per node and namespace with state, a CronJob `backup-<node>` (the scheduled backup), a
 * CronJob `verify-<node>` (the weekly restore test) and a suspended CronJob `restore-<node>`
 * (restore is `kubectl create job --from=cronjob/restore-<node>`, with what to restore in its
 * arguments), all pinned to the node that holds the volumes: the local-path claims are
 * ReadWriteOnce and live on that node's disk, and several pods of one node may mount such a claim.
 * The scripts are the Compose target's, in a ConfigMap.
 */
export class BackupChart extends OutputChart {
  constructor(scope: Construct, context: K3sContext) {
    super(scope, 'backup', { folder: `apps/${BACKUP_APP}` });
    const plan = backupPlan(context.platform);
    if (!plan) return;
    for (const nodeBackup of plan.nodes) {
      for (const job of byNamespace(nodeBackup)) this.renderJob(plan, job);
    }
  }

  private renderJob(plan: BackupPlan, job: NodeBackup): void {
    const namespace = job.postgres?.zone.namespace ?? (job.volumes[0]?.service.zone.namespace as string);
    const labels = { [NAME_LABEL]: 'backup', [PART_OF_LABEL]: BACKUP_APP, [MANAGED_BY_LABEL]: MANAGED_BY };
    const node = job.node.name;
    const scripts = `backup-scripts-${node}`;
    new k8s.KubeConfigMap(this, `scripts-${job.name}`, {
      metadata: { name: scripts, namespace, labels },
      data: { 'backup.sh': renderBackupScript(plan, job), 'restore.sh': renderRestoreScript(plan, job), 'verify.sh': renderVerifyScript(plan, job) },
    });
    const secrets: Secret[] = [plan.password, ...plan.destinations.flatMap((d) => d.secrets)];
    const env: k8s.EnvVar[] = secrets.map((s) => ({ name: s.name, valueFrom: { secretKeyRef: { name: secretObjectName(s), key: s.name } } }));
    env.push({ name: 'RESTIC_PASSWORD', value: `$(${plan.password.name})` });
    const s3 = plan.destinations.find((d) => d.kind === 's3');
    if (s3) {
      env.push({ name: 'AWS_ACCESS_KEY_ID', value: `$(${s3.secrets[0]?.name})` }, { name: 'AWS_SECRET_ACCESS_KEY', value: `$(${s3.secrets[1]?.name})` });
    }
    if (job.postgres) {
      const user = job.postgres.env.POSTGRES_USER as Secret;
      const password = job.postgres.env.POSTGRES_PASSWORD as Secret;
      env.push(
        { name: user.name, valueFrom: { secretKeyRef: { name: secretObjectName(user), key: user.name } } },
        { name: password.name, valueFrom: { secretKeyRef: { name: secretObjectName(password), key: password.name } } },
        { name: 'PGHOST', value: `${job.postgres.name}.${namespace}.svc.cluster.local` },
        { name: 'PGPORT', value: String(job.postgres.primaryPort?.port ?? 5432) },
        { name: 'PGUSER', value: `$(${user.name})` },
        { name: 'PGPASSWORD', value: `$(${password.name})` },
        { name: 'PGCONNECT_TIMEOUT', value: '10' },
      );
    }
    const run = (name: string, script: string, args: string[], writable: boolean, schedule: string, suspend: boolean) => {
      const volumes: k8s.Volume[] = [
        { name: 'restic-binary', emptyDir: {} },
        { name: 'scripts', configMap: { name: scripts } },
        { name: 'work', emptyDir: {} },
        { name: 'metrics', hostPath: { path: METRICS_HOST_DIR, type: 'DirectoryOrCreate' } },
        { name: 'localtime', hostPath: { path: '/etc/localtime', type: 'File' } },
      ];
      const mounts: k8s.VolumeMount[] = [
        { name: 'restic-binary', mountPath: BACKUP_PATHS.bin, readOnly: true },
        { name: 'scripts', mountPath: BACKUP_PATHS.scripts, readOnly: true },
        { name: 'work', mountPath: BACKUP_PATHS.work },
        { name: 'metrics', mountPath: BACKUP_PATHS.metrics },
        { name: 'localtime', mountPath: '/etc/localtime', readOnly: true },
      ];
      job.volumes.forEach((v, i) => {
        volumes.push({ name: `data-${i}`, persistentVolumeClaim: { claimName: claimName(v), readOnly: writable ? undefined : true } });
        mounts.push({ name: `data-${i}`, mountPath: `${BACKUP_PATHS.data}/${v.relativePath}`, readOnly: writable ? undefined : true });
      });
      plan.destinations.forEach((d, i) => {
        if (!d.hostPath) return;
        volumes.push({ name: `repository-${i}`, hostPath: { path: d.hostPath, type: 'DirectoryOrCreate' } });
        mounts.push({ name: `repository-${i}`, mountPath: `${BACKUP_PATHS.repositories}/${d.name}` });
      });
      new k8s.KubeCronJob(this, `${name}-${job.name}`, {
        metadata: { name: `${name}-${node}`, namespace, labels },
        spec: {
          schedule,
          suspend: suspend ? true : undefined,
          concurrencyPolicy: 'Forbid',
          successfulJobsHistoryLimit: 3,
          failedJobsHistoryLimit: 3,
          jobTemplate: {
            spec: {
              backoffLimit: 0,
              template: {
                metadata: { labels },
                spec: {
                  restartPolicy: 'Never',
                  nodeSelector: { [HOSTNAME_LABEL]: node },
                  tolerations: job.node.hasGpu ? [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] : undefined,
                  initContainers: [
                    {
                      name: 'restic-binary',
                      image: RESTIC_IMAGE,
                      command: ['cp', '/usr/bin/restic', `${BACKUP_PATHS.bin}/restic`],
                      volumeMounts: [{ name: 'restic-binary', mountPath: BACKUP_PATHS.bin }],
                      resources: { limits: { cpu: k8s.Quantity.fromString('250m'), memory: k8s.Quantity.fromString('64Mi') }, requests: { cpu: k8s.Quantity.fromString('50m'), memory: k8s.Quantity.fromString('32Mi') } },
                      securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
                    },
                  ],
                  containers: [
                    {
                      name,
                      image: plan.image,
                      command: ['bash', `${BACKUP_PATHS.scripts}/${script}`, ...args],
                      env,
                      volumeMounts: mounts,
                      resources: { limits: { cpu: k8s.Quantity.fromString('1'), memory: k8s.Quantity.fromString('1Gi') }, requests: { cpu: k8s.Quantity.fromString('250m'), memory: k8s.Quantity.fromString('512Mi') } },
                      // Root, to read every service's files whatever user wrote them; nothing else.
                      securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['DAC_READ_SEARCH', ...(writable ? ['CHOWN', 'FOWNER', 'DAC_OVERRIDE'] : [])] } },
                    },
                  ],
                  volumes,
                },
              },
            },
          },
        },
      });
    };
    this.renderPolicies(plan, job, namespace, labels);
    run('backup', 'backup.sh', [], false, plan.schedule, false);
    run('verify', 'verify.sh', [], false, plan.verifySchedule, false);
    // Never scheduled: `kubectl create job --from=cronjob/restore-<node>` makes a Job of it; the
    // README shows how to pass what to restore.
    run('restore', 'restore.sh', ['all'], true, plan.schedule, true);
  }

  /**
   * The zone's default-deny lets nothing out of or into the job's pods: allow them to Postgres
   * (and Postgres to take them), and to the internet on 443/80 when a destination is S3.
   */
  private renderPolicies(plan: BackupPlan, job: NodeBackup, namespace: string, labels: Record<string, string>): void {
    const egress: k8s.NetworkPolicyEgressRule[] = [];
    if (job.postgres) {
      const port = job.postgres.primaryPort?.port ?? 5432;
      egress.push({ to: [{ podSelector: { matchLabels: { [NAME_LABEL]: job.postgres.name } } }], ports: [{ port: k8s.IntOrString.fromNumber(port), protocol: 'TCP' }] });
      new k8s.KubeNetworkPolicy(this, `postgres-from-backup-${job.name}`, {
        metadata: { name: 'postgres-from-backup', namespace, labels },
        spec: {
          podSelector: { matchLabels: { [NAME_LABEL]: job.postgres.name } },
          policyTypes: ['Ingress'],
          ingress: [{ from: [{ podSelector: { matchLabels: { [NAME_LABEL]: 'backup' } } }], ports: [{ port: k8s.IntOrString.fromNumber(port), protocol: 'TCP' }] }],
        },
      });
    }
    if (plan.destinations.some((d) => d.remote)) {
      egress.push({
        to: [{ ipBlock: { cidr: INTERNET.cidr, except: INTERNET.except } }],
        ports: [80, 443].map((port) => ({ port: k8s.IntOrString.fromNumber(port), protocol: 'TCP' })),
      });
    }
    if (egress.length === 0) return;
    new k8s.KubeNetworkPolicy(this, `backup-egress-${job.name}`, {
      metadata: { name: `backup-egress-${job.node.name}`, namespace, labels },
      spec: { podSelector: { matchLabels: { [NAME_LABEL]: 'backup' } }, policyTypes: ['Egress'], egress },
    });
  }
}
