import type { Platform } from '../model/platform.js';
import { escapeDollars } from '../model/values.js';
import type { RenderedFile } from '../output/writer.js';
import { generatedHeader, toYaml } from '../output/yaml.js';
import { renderBackupScript, renderRestoreScript, renderSchedulerScript, renderVerifyScript } from '../configs/backup-scripts.js';
import { BACKUP_PATHS, backupPlan, METRICS_HOST_DIR, RESTIC_IMAGE, type BackupPlan, type NodeBackup } from '../services/backup.js';
import { dataVolumeSource, requiredVariable, type ComposeFlavor } from './service.js';
import { composeUnits, UPLINK_NETWORK, type ComposeUnit } from './units.js';
import { compareText } from '../output/order.js';

/** Folder of a node's backup stack: `<node>/backup`. */
export const BACKUP_STACK = 'backup';

const SCRIPTS = ['backup', 'restore', 'verify', 'scheduler'] as const;

function scriptText(plan: BackupPlan, backup: NodeBackup, name: (typeof SCRIPTS)[number]): string {
  switch (name) {
    case 'backup':
      return renderBackupScript(plan, backup);
    case 'restore':
      return renderRestoreScript(plan, backup);
    case 'verify':
      return renderVerifyScript(plan, backup);
    case 'scheduler':
      return renderSchedulerScript(plan, backup);
  }
}

/** The environment of the job: the repository password, Postgres's superuser, S3 keys; never a value. */
function environment(plan: BackupPlan, backup: NodeBackup): Record<string, string> {
  const env: Record<string, string> = { RESTIC_PASSWORD: requiredVariable(plan.password) };
  if (backup.postgres) {
    const pg = backup.postgres.env;
    env.PGHOST = backup.postgres.name;
    env.PGPORT = String(backup.postgres.primaryPort?.port ?? 5432);
    env.PGUSER = requiredVariable(pg.POSTGRES_USER as never);
    env.PGPASSWORD = requiredVariable(pg.POSTGRES_PASSWORD as never);
    env.PGCONNECT_TIMEOUT = '10';
  }
  const s3 = plan.destinations.filter((d) => d.kind === 's3');
  // restic reads one pair of S3 keys from the environment: with several S3 destinations, the
  // script would need per-repository keys; the schema allows that, the job passes the first pair.
  const first = s3[0];
  if (first) {
    env.AWS_ACCESS_KEY_ID = requiredVariable(first.secrets[0] as never);
    env.AWS_SECRET_ACCESS_KEY = requiredVariable(first.secrets[1] as never);
  }
  return env;
}

/**
 * The volumes of the job: restic's binary, every state volume of the node (read-only for the
 * backup, writable for the restore), each folder destination, its work volume, the metrics folder
 * node-exporter reads, and the host's clock zone.
 */
function volumes(platform: Platform, plan: BackupPlan, backup: NodeBackup, units: readonly ComposeUnit[], writable: boolean) {
  const out: Record<string, unknown>[] = [{ type: 'volume', source: 'restic-binary', target: BACKUP_PATHS.bin, read_only: true }];
  const external: Record<string, { external: true; name: string }> = {};
  for (const v of backup.volumes) {
    const target = `${BACKUP_PATHS.data}/${v.relativePath}`;
    if (platform.config.storage.mode === 'bind') {
      out.push({ type: 'bind', source: dataVolumeSource(platform, v.service, { name: v.volume }), target, ...(writable ? {} : { read_only: true }) });
    } else {
      const unit = units.find((u) => u.node === backup.node && u.services.includes(v.service));
      const key = `${unit?.name ?? v.service.stackName}_${v.volume}`;
      external[key] = { external: true, name: key };
      out.push({ type: 'volume', source: key, target, ...(writable ? {} : { read_only: true }) });
    }
  }
  for (const d of plan.destinations) {
    if (d.hostPath) out.push({ type: 'bind', source: d.hostPath, target: `${BACKUP_PATHS.repositories}/${d.name}`, bind: { create_host_path: true } });
  }
  out.push({ type: 'volume', source: 'backup-work', target: BACKUP_PATHS.work });
  out.push({ type: 'bind', source: METRICS_HOST_DIR, target: BACKUP_PATHS.metrics, bind: { create_host_path: true } });
  out.push({ type: 'bind', source: '/etc/localtime', target: '/etc/localtime', read_only: true });
  return { mounts: out, external };
}

function scriptMounts(flavor: ComposeFlavor): Record<string, unknown> {
  return flavor === 'coolify'
    ? { configs: SCRIPTS.map((s) => ({ source: `backup-${s}.sh`, target: `${BACKUP_PATHS.scripts}/${s}.sh` })) }
    : { scriptVolumes: SCRIPTS.map((s) => ({ type: 'bind', source: `./scripts/${s}.sh`, target: `${BACKUP_PATHS.scripts}/${s}.sh`, read_only: true })) };
}

function renderFile(platform: Platform, plan: BackupPlan, backup: NodeBackup, flavor: ComposeFlavor, units: readonly ComposeUnit[], restore: boolean): string {
  const { mounts, external } = volumes(platform, plan, backup, units, restore);
  const scripts = scriptMounts(flavor);
  const networks = new Set<string>();
  if (backup.postgres) networks.add(backup.postgres.zone.networkName);
  if (plan.destinations.some((d) => d.remote) || networks.size === 0) networks.add(UPLINK_NETWORK);
  const job: Record<string, unknown> = {
    image: plan.image,
    depends_on: { 'restic-binary': { condition: 'service_completed_successfully' } },
    volumes: [...mounts, ...((scripts.scriptVolumes as unknown[]) ?? [])],
    ...(scripts.configs ? { configs: scripts.configs } : {}),
    environment: environment(plan, backup),
    networks: [...networks].sort(),
    entrypoint: restore ? ['bash', `${BACKUP_PATHS.scripts}/restore.sh`] : ['bash', `${BACKUP_PATHS.scripts}/scheduler.sh`],
    restart: restore ? 'no' : 'unless-stopped',
    ...(restore
      ? {}
      : {
          // The scheduler's process: alive while it loops (a failed run is what the metrics report).
          healthcheck: { test: ['CMD', 'bash', '-c', 'kill -0 1'], interval: '60s', timeout: '10s', retries: 3, start_period: '10s' },
        }),
    logging: { driver: 'json-file', options: { 'max-size': '10m', 'max-file': '3' } },
    deploy: { resources: { limits: { cpus: '1', memory: '1G' } } },
    security_opt: ['no-new-privileges:true'],
  };
  const doc: Record<string, unknown> = {
    name: restore ? 'backup-restore' : BACKUP_STACK,
    services: {
      ...(restore ? { restore: job } : { backup: job }),
      'restic-binary': {
        image: RESTIC_IMAGE,
        volumes: [{ type: 'volume', source: 'restic-binary', target: BACKUP_PATHS.bin }],
        network_mode: 'none',
        // The image's restic is a static Go binary: it runs in the Postgres image beside pg_dump.
        entrypoint: ['cp', '/usr/bin/restic', `${BACKUP_PATHS.bin}/restic`],
        restart: 'no',
        logging: { driver: 'json-file', options: { 'max-size': '10m', 'max-file': '3' } },
        deploy: { resources: { limits: { cpus: '0.25', memory: '64M' } } },
        security_opt: ['no-new-privileges:true'],
      },
    },
    networks: Object.fromEntries([...networks].sort().map((n) => [n, { external: true }])),
    volumes: { 'backup-work': restore ? { external: true, name: `${BACKUP_STACK}_backup-work` } : {}, 'restic-binary': {}, ...external },
  };
  if (flavor === 'coolify') {
    doc.configs = Object.fromEntries(SCRIPTS.map((s) => [`backup-${s}.sh`, { content: escapeDollars(scriptText(plan, backup, s)) }]));
  }
  const header = restore
    ? generatedHeader(`Restore on node ${backup.node.name}`) +
      `# Run by hand, never deployed: docker compose -f restore.compose.yaml run --rm restore all (see README.md)\n`
    : generatedHeader(`Stack ${BACKUP_STACK} on node ${backup.node.name}`) + `# Networks: run ../networks.sh on ${backup.node.name} first. Variables: see .env.example.\n`;
  return header + toYaml(doc);
}

/** Every file of the Compose backup stacks: per node with state, compose.yaml, restore.compose.yaml, scripts, .env.example, README. */
export function renderComposeBackup(platform: Platform, flavor: ComposeFlavor): RenderedFile[] {
  const plan = backupPlan(platform);
  if (!plan) return [];
  const units = composeUnits(platform, { splitProfiles: flavor === 'coolify' });
  const files: RenderedFile[] = [];
  for (const backup of plan.nodes) {
    const dir = `${backup.node.name}/${BACKUP_STACK}`;
    files.push({ path: `${dir}/compose.yaml`, content: renderFile(platform, plan, backup, flavor, units, false) });
    files.push({ path: `${dir}/restore.compose.yaml`, content: renderFile(platform, plan, backup, flavor, units, true) });
    // The scripts beside the files in both flavours: the restore file and a by-hand run read them there.
    for (const s of SCRIPTS) files.push({ path: `${dir}/scripts/${s}.sh`, content: scriptText(plan, backup, s), mode: 0o755 });
    files.push({ path: `${dir}/.env.example`, content: renderBackupEnvExample(plan, backup) });
    files.push({ path: `${dir}/README.md`, content: renderBackupReadme(plan, backup) });
  }
  return files;
}

/** The secrets a node's backup job reads. */
export function backupSecrets(plan: BackupPlan, backup: NodeBackup) {
  const secrets = [plan.password, ...plan.destinations.flatMap((d) => d.secrets)];
  if (backup.postgres) secrets.push(backup.postgres.env.POSTGRES_USER as never, backup.postgres.env.POSTGRES_PASSWORD as never);
  return secrets.sort((a, b) => compareText(a.name, b.name));
}

function renderBackupEnvExample(plan: BackupPlan, backup: NodeBackup): string {
  const lines = [`# Variables of the backup stack on ${backup.node.name}. Never commit values.`];
  for (const s of backupSecrets(plan, backup)) lines.push('', `# ${s.description}`, `# make: ${s.howToGenerate}`, `${s.name}=`);
  return `${lines.join('\n')}\n`;
}

function renderBackupReadme(plan: BackupPlan, backup: NodeBackup): string {
  const node = backup.node.name;
  const what = [
    ...backup.databases.map((d) => `- Postgres database \`${d}\`: a \`pg_dump --format=custom\` (tag \`source=postgres/${d}\`)`),
    ...backup.volumes.map((v) => `- \`${v.id}\` (${v.readRule === 'crash-safe' ? 'read while it runs: crash-safe' : 'kept only when no file changed while read'})`),
  ];
  return `# Backups of ${node}

The \`backup\` service runs \`scripts/scheduler.sh\`: at \`${plan.schedule}\` (node's local time) \`backup.sh\`,
at \`${plan.verifySchedule}\` \`verify.sh\`. Repositories (restic, encrypted with \`BACKUP_RESTIC_PASSWORD\`):
${plan.destinations.map((d) => `- \`${d.name}\`: \`${d.kind === 'path' ? `${d.hostPath}/restic-${node}` : d.repository(backup.name).replace(/^s3:/, '')}\``).join('\n')}

Kept: ${plan.retention.daily} daily, ${plan.retention.weekly} weekly, ${plan.retention.monthly} monthly snapshots of each source.

What is backed up here:
${what.join('\n')}

Deploy it after the stacks whose volumes it reads (Compose creates their volumes). Run a backup now:
\`docker compose exec backup bash /backup/backup.sh\`; check: \`docker compose exec backup bash /backup/verify.sh\`.

## Restore

Stop what you restore, then run the restore file (never deployed, run by hand on ${node}):

\`\`\`sh
docker compose -f restore.compose.yaml run --rm restore --list                 # snapshots
docker compose -f restore.compose.yaml run --rm restore grafana                 # one service, newest snapshot
docker compose -f restore.compose.yaml run --rm restore --at "2026-11-29 04:00" all   # everything as it was then
docker compose -f restore.compose.yaml run --rm restore postgres/<database>     # one database (pg_restore --clean)
\`\`\`
`;
}
