import type { Node } from '../model/node.js';
import type { Platform } from '../model/platform.js';
import type { Secret } from '../model/secret.js';
import type { Service } from '../model/service.js';
import { envPrefix } from '../model/values.js';
import { TEXTFILE_HOST_DIR } from './node-exporter.js';
// The Postgres descriptor itself, not the registry: the registry imports Prometheus, whose alert
// rules import this file, so reading the registry here would run it with Prometheus half-loaded.
import { Postgres, postgres as postgresDescriptor } from './postgres.js';
import { compareText } from '../output/order.js';

/**
 * restic, pinned. Why restic (not kopia): one static Go binary with no server or daemon, an
 * encrypted (AES-256 + Poly1305), deduplicated, compressed repository format that is documented
 * and stable since 0.14, local folders and S3 as plain backends, `forget --keep-*` retention,
 * `check --read-data-subset` verification, and Debian packages it (the end-to-end test runs it).
 * The image is only the binary's carrier: the official image copies restic's release binary, a
 * static Go build, to /usr/bin/restic (restic/restic docker/Dockerfile.release), which the backup
 * job copies beside the Postgres image's pg_dump.
 */
export const RESTIC_IMAGE = 'restic/restic:0.18.1';

/** Where things are inside the backup job's container (both targets). */
export const BACKUP_PATHS = {
  /** restic's binary, copied from RESTIC_IMAGE by the first step. */
  bin: '/opt/restic',
  /** The rendered scripts. */
  scripts: '/backup',
  /** Each state volume, read-only, at `<data>/<stack>/<volume>`. */
  data: '/data',
  /** Each folder destination at `<repositories>/<name>`. */
  repositories: '/repositories',
  /** Database dumps and restic's cache. */
  work: '/var/cache/backup',
  /** node-exporter's textfile collector folder (on the host: METRICS_HOST_DIR). */
  metrics: '/metrics',
} as const;

/** On the host: the folder the backup writes its metrics to, which node-exporter's textfile collector reads. */
export const METRICS_HOST_DIR = TEXTFILE_HOST_DIR;

/**
 * How a volume is read consistently. `crash-safe`: the service recovers from any state a crash
 * leaves (write-ahead logs, atomic renames: Prometheus TSDB, Loki, Valkey's RDB, Caddy's
 * certificates, plain files), so reading it while it runs is as good as a power cut.
 * `unchanged-while-read`: SQLite files and config written in place (Grafana, Uptime Kuma, Open
 * WebUI, Alertmanager, Technitium, ddclient, MinIO's object metadata): a copy counts only when no
 * file of the volume changed while restic read it (size and mtime of every file before and after);
 * otherwise the snapshot is dropped and read again, up to three times, then the source is reported
 * failed. SQLite's own documentation says a copy made while no writer is active is a valid
 * database (sqlite.org/howtocorrupt.html, section 1.2), which is what this checks.
 */
export type ReadRule = 'crash-safe' | 'unchanged-while-read';

const CRASH_SAFE = new Set(['prometheus', 'loki', 'valkey', 'caddy', 'comfyui', 'mochi', 'cogvideox', 'qdrant']);

/** One state volume to back up. */
export interface BackupVolume {
  /** `<service>/<volume>`: the snapshot tag and what `restore.sh` takes. */
  readonly id: string;
  readonly service: Service;
  readonly volume: string;
  /** `<stack>/<volume>` under the data root inside the job. */
  readonly relativePath: string;
  readonly readRule: ReadRule;
}

/** A place the repositories of every node go. */
export interface BackupDestination {
  readonly name: string;
  readonly kind: 'path' | 's3';
  /** The folder on the node (path destinations). */
  readonly hostPath?: string;
  /** The repository of one backup job (`NodeBackup.name`), as restic reads it inside the job. */
  repository(job: string): string;
  /** S3 keys (s3 destinations). */
  readonly secrets: readonly Secret[];
  /** Needs a way out of the node (S3). */
  readonly remote: boolean;
}

/** What one backup job backs up: a node's (Compose), or a node's in one namespace (k3s: a pod mounts claims of its own namespace only). */
export interface NodeBackup {
  /** The job's name: its repository (`restic-<name>`), metrics file and label. The node's name on Compose. */
  readonly name: string;
  readonly node: Node;
  readonly volumes: readonly BackupVolume[];
  /** Postgres databases dumped on this node (the Postgres server's node), sorted. */
  readonly databases: readonly string[];
  /** The Postgres server whose databases are dumped here. */
  readonly postgres?: Postgres;
}

/** The backup of the whole platform: computed once from the model, read by both targets, alerts and docs. */
export interface BackupPlan {
  readonly schedule: string;
  readonly verifySchedule: string;
  readonly retention: { readonly daily: number; readonly weekly: number; readonly monthly: number };
  readonly destinations: readonly BackupDestination[];
  readonly password: Secret;
  /** The image the job runs: the pinned Postgres image (its pg_dump, psql, pg_restore, bash). */
  readonly image: string;
  readonly nodes: readonly NodeBackup[];
  /** Volumes left out and why (models, caches, config, Postgres's live data directory). */
  readonly excluded: readonly { readonly id: string; readonly why: string }[];
}

const plans = new WeakMap<Platform, BackupPlan | undefined>();

/** The platform's backup plan, or undefined with `backup.enabled: false`. Declares its secrets on first call. */
export function backupPlan(platform: Platform): BackupPlan | undefined {
  if (plans.has(platform)) return plans.get(platform);
  const plan = computePlan(platform);
  plans.set(platform, plan);
  return plan;
}

function computePlan(platform: Platform): BackupPlan | undefined {
  const config = platform.config.backup;
  if (!config.enabled) return undefined;
  const password = platform.secret('BACKUP_RESTIC_PASSWORD', {
    generate: 'password64',
    description: 'Encryption password of the restic backup repositories (keep a copy off the box: without it no backup can be read)',
  });
  const destinations: BackupDestination[] = Object.entries(config.destinations)
    .sort(([a], [b]) => compareText(a, b))
    .map(([name, d]) => {
      if ('path' in d) {
        return {
          name,
          kind: 'path' as const,
          hostPath: d.path,
          repository: (job: string) => `${BACKUP_PATHS.repositories}/${name}/restic-${job}`,
          secrets: [],
          remote: false,
        };
      }
      const prefix = envPrefix(name);
      const secrets = [
        platform.secret(`BACKUP_${prefix}_ACCESS_KEY_ID`, { generate: 'manual', description: `S3 access key id of backup destination ${name} (${d.s3.bucket})` }),
        platform.secret(`BACKUP_${prefix}_SECRET_ACCESS_KEY`, { generate: 'manual', description: `S3 secret key of backup destination ${name} (${d.s3.bucket})` }),
      ];
      return {
        name,
        kind: 's3' as const,
        repository: (job: string) => `s3:${d.s3.endpoint}/${d.s3.bucket}/${d.s3.prefix}/${job}`,
        secrets,
        remote: true,
      };
    });

  const postgres = platform.services.find((s): s is Postgres => s instanceof Postgres && !s.external);
  const excluded: { id: string; why: string }[] = [];
  const byNode = new Map<Node, { volumes: BackupVolume[] }>();
  for (const service of platform.services) {
    if (service.external) continue;
    for (const volume of service.volumesFor('compose')) {
      if ('hostPath' in volume) continue;
      const id = `${service.name}/${volume.name}`;
      if (volume.holds !== 'state') {
        excluded.push({ id, why: volume.holds === 'models' ? 'model weights, downloaded again from their source' : volume.holds === 'cache' ? 'a cache, rebuilt on its own' : 'configuration the platform renders' });
        continue;
      }
      if (service === postgres) {
        excluded.push({ id, why: 'the live data directory: each database is backed up as a pg_dump instead' });
        continue;
      }
      if (service.perNode) {
        excluded.push({ id, why: 'per-node data of an agent' });
        continue;
      }
      const node = service.homeNode;
      const entry = byNode.get(node) ?? { volumes: [] };
      entry.volumes.push({ id, service, volume: volume.name, relativePath: `${service.stackName}/${volume.name}`, readRule: CRASH_SAFE.has(service.name) ? 'crash-safe' : 'unchanged-while-read' });
      byNode.set(node, entry);
    }
  }
  const nodes: NodeBackup[] = [];
  for (const node of platform.deployedNodes) {
    const volumes = (byNode.get(node)?.volumes ?? []).sort((a, b) => compareText(a.id, b.id));
    const here = postgres !== undefined && postgres.homeNode === node ? postgres : undefined;
    const databases = here ? here.databases.map((d) => d.name) : [];
    if (volumes.length === 0 && databases.length === 0) continue;
    nodes.push({ name: node.name, node, volumes, databases, postgres: here });
  }
  return {
    schedule: config.schedule,
    verifySchedule: config.verifySchedule,
    retention: config.retention,
    destinations,
    password,
    image: postgres?.image ?? postgresDescriptor.image,
    nodes,
    excluded: excluded.sort((a, b) => compareText(a.id, b.id)),
  };
}

/**
 * A node's backup split by namespace, for k3s: a pod can mount only claims of its own namespace,
 * so each namespace with state on the node gets its own job (`<node>-<namespace>`); the databases
 * are dumped by the job in Postgres's namespace.
 */
export function byNamespace(backup: NodeBackup): NodeBackup[] {
  const namespaces = new Set(backup.volumes.map((v) => v.service.zone.namespace));
  if (backup.postgres) namespaces.add(backup.postgres.zone.namespace);
  return [...namespaces].sort().map((namespace) => {
    const withPostgres = backup.postgres?.zone.namespace === namespace;
    return {
      name: `${backup.node.name}-${namespace}`,
      node: backup.node,
      volumes: backup.volumes.filter((v) => v.service.zone.namespace === namespace),
      databases: withPostgres ? backup.databases : [],
      postgres: withPostgres ? backup.postgres : undefined,
    };
  });
}

/** The namespace the backup Application deploys to by default (Postgres's, else the first job's); undefined when backups are off. */
export function backupJobNamespace(platform: Platform): string | undefined {
  const plan = backupPlan(platform);
  const first = plan?.nodes[0];
  if (!plan || !first) return undefined;
  return plan.nodes.find((n) => n.postgres)?.postgres?.zone.namespace ?? first.volumes[0]?.service.zone.namespace;
}

/** Every namespace a backup job runs in, with the secrets its pods read. */
export function backupSecretUsage(platform: Platform): { namespace: string; secrets: Secret[] }[] {
  const plan = backupPlan(platform);
  if (!plan) return [];
  const out: { namespace: string; secrets: Secret[] }[] = [];
  for (const backup of plan.nodes) {
    for (const job of byNamespace(backup)) {
      const namespace = job.postgres?.zone.namespace ?? (job.volumes[0]?.service.zone.namespace as string);
      const secrets = [plan.password, ...plan.destinations.flatMap((d) => d.secrets)];
      if (job.postgres) secrets.push(job.postgres.env.POSTGRES_USER as Secret, job.postgres.env.POSTGRES_PASSWORD as Secret);
      out.push({ namespace, secrets });
    }
  }
  return out;
}
