import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toolAvailable } from './support/tools.js';
import { postgresAvailable, startCluster, type TestCluster } from './support/postgres.js';
import { lowerKeyDerivationCost, openMasterKey, poly1305, writeSnapshot, type ListedSnapshot } from './support/restic.js';
import { buildPlatform, renderK3s } from '../lib/synth.js';
import { validatePlatform } from '../lib/validate/rules.js';
import { inlineConfig, renderTree, type RenderedTree } from './support/render.js';
import { readYaml } from './support/yaml.js';

/*
 * The rendered backup, restore and restore test, run for real: the scripts of the Compose backup
 * stack with Debian's pg_dump/pg_restore/psql and restic from PATH (the job's container has the
 * pinned Postgres image's and restic's), against a Postgres on 127.0.0.1 and a repository in a
 * temp folder. The environment is the one the rendered compose file gives the job, with its
 * `${NAME:?}` references filled by test values and the container paths pointed at temp folders.
 */

const SUPERUSER = 'platform_admin';
const VALUES: Record<string, string> = {
  PG_USER: SUPERUSER,
  PG_PASSWORD: 'su-Pw/+=@:%-never-printed-1',
  PG_API_PASSWORD: 'api-Pw-never-printed-2',
  BACKUP_RESTIC_PASSWORD: 'restic-Pw-never-printed-3',
};
const APP = { image: 'ghcr.io/example/api:1.0.0', port: 3000, connects: ['postgres'], healthPath: '/health' };
const DIR = 'homelab/backup';

const enabled = postgresAvailable() && toolAvailable('restic');

/**
 * The node the scripts run for: the app beside the reference services that keep state of each kind
 * the script treats differently (Caddy's and Prometheus's crash-safe stores, Grafana's SQLite read
 * while nothing changes it, the Postgres dumps). The services whose volumes would only repeat those
 * cases are off: every restic run waits about 200 ms on its lock, so each volume costs two of them
 * per backup and restore. "What the backup covers" below checks every state volume of the full
 * reference node.
 */
const RUN_SERVICES = Object.fromEntries(
  ['alertmanager', 'alloy', 'ddclient', 'loki', 'minio', 'open-webui', 'technitium', 'uptime-kuma', 'valkey'].map((name) => [name, { enabled: false }]),
);
let rendered: RenderedTree | undefined;
/** The node with the app, rendered for plain Compose once for the whole file (the tests only read it). */
const plainTree = (): RenderedTree => (rendered ??= renderTree(inlineConfig({ apps: { api: APP }, services: RUN_SERVICES }), 'plain'));
let cluster: TestCluster;
let tree: RenderedTree;
let scratch: string;
const outputs: string[] = [];

function fill(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).map(([k, v]) => [k, v.replace(/\$\{([A-Z0-9_]+):\?\}/g, (_, name: string) => VALUES[name] ?? `missing-${name}`)]),
  );
}

function psql(database: string, sql: string, user = SUPERUSER, password = VALUES.PG_PASSWORD as string): string {
  const result = cluster.psql({ PGUSER: user, PGPASSWORD: password, PGDATABASE: database }, ['-v', 'ON_ERROR_STOP=1', '-c', sql]);
  if (result.status !== 0) throw new Error(result.stderr);
  return result.stdout.trim();
}

/** The sources the rendered script backs up: "<id> <folder> <rule>". */
function sources(script: string): { id: string; folder: string }[] {
  const block = /\nsources=\(\n([\s\S]*?)\n\)/.exec(script)?.[1] ?? '';
  return block
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const [id, folder] = l.trim().replace(/"/g, '').split(' ');
      return { id: id as string, folder: folder as string };
    });
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Run a rendered script of the node's backup stack as the job would, against the test's Postgres and folders. */
function runScript(name: string, args: string[] = [], extra: Record<string, string> = {}, repo = join(scratch, 'repo')): Run {
  const path = join(scratch, `${name}.sh`);
  writeFileSync(path, tree.files.get(`${DIR}/scripts/${name}.sh`) as string, { mode: 0o755 });
  const job = tree.service(DIR, 'backup');
  const env = {
    ...fill(job.environment ?? {}),
    PATH: cluster.path,
    PGHOST: '127.0.0.1',
    PGPORT: String(cluster.port),
    HOME: scratch,
    BACKUP_DATA_ROOT: join(scratch, 'data'),
    BACKUP_WORK: join(scratch, 'work'),
    BACKUP_METRICS_DIR: join(scratch, 'metrics'),
    BACKUP_REPOSITORIES: `local=${repo}`,
    ...extra,
  };
  mkdirSync(env.BACKUP_WORK, { recursive: true });
  const result = spawnSync('bash', [path, ...args], { encoding: 'utf8', env, timeout: 300_000 });
  outputs.push(result.stdout, result.stderr);
  return result;
}

function metric(file: string, name: string): number {
  const text = readFileSync(join(scratch, 'metrics', file), 'utf8');
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`));
  return Number(line?.split(' ').pop());
}

/**
 * restic as the test runs it, to read the repository (list, check) while no script runs: with
 * `--no-lock`, which spares each run the 200 ms restic sleeps after writing its lock file before
 * it looks for other processes' locks (restic v0.18.1 internal/restic/lock.go:89 and :133, v0.14.0
 * :76 and :112). The scripts under test take their locks as always.
 */
function restic(repo: string, args: string[]): Run {
  const result = spawnSync('restic', ['-r', repo, '--no-lock', ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', RESTIC_PASSWORD: VALUES.BACKUP_RESTIC_PASSWORD as string, HOME: scratch, RESTIC_CACHE_DIR: join(scratch, 'cache') } });
  outputs.push(result.stdout, result.stderr);
  return result;
}

/** `restic snapshots --json` of the node's repository, with `args` (filters); throws when restic fails. */
function listSnapshots(args: string[] = []): ListedSnapshot[] {
  const listed = restic(join(scratch, 'repo'), ['snapshots', '--json', ...args]);
  if (listed.status !== 0) throw new Error(listed.stderr);
  return JSON.parse(listed.stdout) as ListedSnapshot[];
}

/** The snapshot of the app database's dump that the first complete backup made, as restic lists it: the model of the snapshots the tests write. */
let dumpSnapshot: ListedSnapshot | undefined;
function databaseSnapshot(): ListedSnapshot {
  dumpSnapshot ??= listSnapshots(['--tag', 'source=postgres/api'])[0];
  if (dumpSnapshot === undefined) throw new Error('no snapshot of postgres/api in the repository: the backup test did not run');
  return dumpSnapshot;
}

describe.skipIf(!enabled)('backups, run for real (Postgres 15 and restic on 127.0.0.1)', () => {
  beforeAll(async () => {
    tree = plainTree();
    scratch = mkdtempSync(join(tmpdir(), 'platform-backup-'));
    cluster = await startCluster(SUPERUSER, VALUES.PG_PASSWORD as string);
    // The rendered provisioning makes the app's database and role, as on a deploy.
    const sql = join(scratch, 'provision.sql');
    writeFileSync(sql, tree.files.get('homelab/data/postgres-provision/provision.sql') as string);
    const provision = cluster.psql({ PGUSER: SUPERUSER, PGPASSWORD: VALUES.PG_PASSWORD as string, PGDATABASE: 'postgres', PG_API_PASSWORD: VALUES.PG_API_PASSWORD as string, PG_LITELLM_PASSWORD: 'x' }, ['-v', 'ON_ERROR_STOP=1', '-f', sql]);
    if (provision.status !== 0) throw new Error(provision.stderr);
    psql('api', "CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes SELECT g, 'note ' || g FROM generate_series(1, 5000) g", 'api', VALUES.PG_API_PASSWORD);
    // Every state volume of the node, as folders; Grafana's holds a file we can check.
    for (const s of sources(tree.files.get(`${DIR}/scripts/backup.sh`) as string)) mkdirSync(join(scratch, 'data', s.folder), { recursive: true });
    writeFileSync(join(scratch, 'data', 'monitoring', 'grafana-data', 'grafana.db'), 'dashboards v1');
  }, 120_000);
  afterAll(() => {
    cluster?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('creates the repository on its first run, and a run that misses a volume or the database fails and says so', () => {
    const repo = join(scratch, 'repo');
    // Nothing listens on port 1; the data root has no volume folders.
    const run = runScript('backup', [], { PGPORT: '1', BACKUP_DATA_ROOT: join(scratch, 'empty') }, repo);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('initialising repository local');
    expect(run.stderr).toContain('FAILED: dump of api');
    expect(run.stderr).toContain(`FAILED: grafana/grafana-data: ${join(scratch, 'empty', 'monitoring', 'grafana-data')} is missing`);
    // The repository works: the retention pass after the snapshots opened it.
    expect(run.stderr).not.toContain('cannot open or create');
    expect(run.stderr).not.toContain('FAILED: retention');
    // The database's dump and the destination.
    expect(run.stderr).toContain('backup finished with 2 failure(s)');
    expect(metric('backup-homelab-local.prom', 'platform_backup_last_run_success')).toBe(0);
    expect(metric('backup-homelab-local.prom', 'platform_backup_last_success_timestamp_seconds')).toBe(0);

    /*
     * The tests after this one run about a hundred restic processes against this repository, and
     * each derives the key from the password with the scrypt parameters `restic init` just
     * calibrated to take half a second. The master key is re-wrapped under the parameters
     * restic's own tests use (test/support/restic.ts says why that changes nothing else).
     */
    lowerKeyDerivationCost(repo, VALUES.BACKUP_RESTIC_PASSWORD as string);
  }, 120_000);

  it('backs up the app database and every state volume, then restores them after the database is dropped', () => {
    const backup = runScript('backup');
    expect(backup.status, backup.stderr).toBe(0);
    const now = Date.now() / 1000;
    expect(metric('backup-homelab-local.prom', 'platform_backup_last_run_success')).toBe(1);
    expect(Math.abs(metric('backup-homelab-local.prom', 'platform_backup_last_success_timestamp_seconds') - now)).toBeLessThan(120);
    const snapshots = listSnapshots();
    const tags = snapshots.flatMap((s) => s.tags ?? []).filter((t) => t.startsWith('source='));
    expect(tags).toContain('source=postgres/api');
    expect(tags).toContain('source=grafana/grafana-data');
    dumpSnapshot = snapshots.find((s) => s.tags?.includes('source=postgres/api'));

    psql('postgres', 'DROP DATABASE api');
    writeFileSync(join(scratch, 'data', 'monitoring', 'grafana-data', 'grafana.db'), 'broken');
    writeFileSync(join(scratch, 'data', 'monitoring', 'grafana-data', 'stray'), 'made after the backup');

    const restore = runScript('restore', ['all']);
    expect(restore.status, restore.stderr).toBe(0);
    // One session as the app's role: it reads its restored rows, and pg_tables (readable by every role) names the table's owner.
    const [rows, owner] = cluster.psqlEach({ PGUSER: 'api', PGPASSWORD: VALUES.PG_API_PASSWORD as string, PGDATABASE: 'api' }, [
      'SELECT count(*), sum(id) FROM notes',
      "SELECT tableowner FROM pg_tables WHERE tablename = 'notes'",
    ]);
    expect(rows?.stdout, rows?.stderr).toBe(`5000|${(5000 * 5001) / 2}`);
    expect(owner?.stdout, owner?.stderr).toBe('api');
    expect(readFileSync(join(scratch, 'data', 'monitoring', 'grafana-data', 'grafana.db'), 'utf8')).toBe('dashboards v1');
    expect(readdirSync(join(scratch, 'data', 'monitoring', 'grafana-data'))).toEqual(['grafana.db']);
  }, 300_000);

  it('restores one service from the snapshot of a chosen time, and refuses an unknown one', () => {
    const later = runScript('restore', ['--at', '2000-01-01', 'grafana']);
    expect(later.status).toBe(1);
    expect(later.stderr).toContain('no snapshot of grafana/grafana-data at or before');
    const unknown = runScript('restore', ['nextcloud']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('nothing on node homelab is called nextcloud');
    writeFileSync(join(scratch, 'data', 'monitoring', 'grafana-data', 'grafana.db'), 'edited');
    const one = runScript('restore', ['grafana/grafana-data']);
    expect(one.status, one.stderr).toBe(0);
    expect(readFileSync(join(scratch, 'data', 'monitoring', 'grafana-data', 'grafana.db'), 'utf8')).toBe('dashboards v1');
  }, 120_000);

  it('the test support writes a snapshot restic lists with its time, tags and tree, under the ID restic computes', () => {
    const repo = join(scratch, 'repo');
    const model = databaseSnapshot();
    // Another host and tag: no script of node homelab lists, restores or forgets it.
    const id = writeSnapshot(repo, openMasterKey(repo, VALUES.BACKUP_RESTIC_PASSWORD as string), { ...model, hostname: 'support-test', tags: ['written-by-test'], time: '2001-02-03T04:05:06.789Z' });
    // Read-only, as restic's local backend leaves the snapshot files it writes.
    const mode = (snapshot: string) => statSync(join(repo, 'snapshots', snapshot)).mode & 0o777;
    expect(mode(id)).toBe(mode(model.id as string));
    expect(mode(id) & 0o222).toBe(0);
    expect(readdirSync(join(repo, 'snapshots')).filter((name) => name.includes('tmp'))).toEqual([]);
    const [listed, ...more] = listSnapshots(['--host', 'support-test']);
    expect(more).toEqual([]);
    expect(listed?.id).toBe(id);
    expect(Date.parse(listed?.time as string)).toBe(Date.parse('2001-02-03T04:05:06.789Z'));
    expect(listed?.tags).toEqual(['written-by-test']);
    expect(listed).toMatchObject({ tree: model.tree, paths: model.paths, username: model.username });
  });

  it('prune applies the retention (7 daily, 4 weekly, 6 monthly) to a year of snapshots', () => {
    // A year of history of the database's dump in the node's repository, next to the snapshots of the runs before.
    const repo = join(scratch, 'repo');
    const day = 86_400_000;
    const now = Date.now();
    /*
     * Daily for the last week, every other day for the three weeks before, then monthly back to a
     * year ago. Past the 7-day window a snapshot stays only as the newest of its ISO week or month
     * (restic v0.18.1 internal/restic/snapshot_policy.go:189-310 ApplyPolicy, :128 ISOWeek), and
     * every whole week within days 8-28 still holds three or four snapshots, so each still has one
     * kept and the others dropped.
     */
    const times = [
      ...Array.from({ length: 7 }, (_, i) => now - (i + 1) * day),
      ...Array.from({ length: 11 }, (_, i) => now - (8 + 2 * i) * day),
      ...Array.from({ length: 11 }, (_, i) => now - (35 + i * 30) * day),
    ];
    /*
     * The history is written into the repository as restic stores snapshots
     * (test/support/restic.ts writeSnapshot): copies of the database dump's snapshot from the
     * backup above, same host, paths (restic's retention groups by both), tags and tree, each with
     * its own time. What 29 `restic backup --time` runs would leave, without 29 restic processes
     * each opening the repository and waiting on its lock.
     */
    const master = openMasterKey(repo, VALUES.BACKUP_RESTIC_PASSWORD as string);
    const model = databaseSnapshot();
    const written = times.map((t) => writeSnapshot(repo, master, { ...model, time: new Date(t).toISOString() }));
    // restic reads every one of them with its time, and `check` (every snapshot loaded, its tree walked) passes.
    const listed = new Map(listSnapshots(['--host', 'homelab', '--tag', 'source=postgres/api']).map((s) => [s.id, Date.parse(s.time)]));
    written.forEach((id, i) => expect(listed.get(id), `snapshot ${i}`).toBe(times[i]));
    const check = restic(repo, ['check']);
    expect(check.status, check.stderr).toBe(0);

    const run = runScript('backup', [], {}, repo);
    expect(run.status, run.stderr).toBe(0);
    const kept = listSnapshots(['--tag', 'source=postgres/api']).map((s) => Date.parse(s.time)).sort((a, b) => b - a);
    // The 7 newest days (today's run and the 6 before), one per week for 4 weeks, one per month for 6 months.
    expect(kept.length).toBeGreaterThanOrEqual(7 + 2);
    expect(kept.length).toBeLessThanOrEqual(7 + 4 + 6);
    for (let i = 1; i <= 6; i++) expect(kept.some((t) => Math.abs(t - (now - i * day)) < day / 2)).toBe(true);
    expect(Math.min(...kept)).toBeGreaterThan(now - 7 * 31 * day);
    expect(kept.filter((t) => t < now - 200 * day)).toEqual([]);
  }, 300_000);

  it('verify restores the latest dump into a scratch database, then catches a corrupted repository', () => {
    const good = runScript('verify', [], { BACKUP_VERIFY_READ_DATA: '100%' });
    expect(good.status, good.stderr).toBe(0);
    expect(good.stderr).toContain('api: 1 table(s) restored from local');
    expect(metric('verify-homelab-local.prom', 'platform_backup_verify_last_run_success')).toBe(1);
    const lastGood = metric('verify-homelab-local.prom', 'platform_backup_verify_last_success_timestamp_seconds');
    expect(psql('postgres', "SELECT count(*) FROM pg_database WHERE datname LIKE 'platform_verify%'")).toBe('0');

    // Flip bytes in the middle of every data pack: what a failing disk does.
    const packs = join(scratch, 'repo', 'data');
    for (const dir of readdirSync(packs)) {
      for (const file of readdirSync(join(packs, dir))) {
        const path = join(packs, dir, file);
        const bytes = readFileSync(path);
        const at = Math.floor(bytes.length / 2);
        for (let i = at; i < Math.min(at + 64, bytes.length); i++) bytes[i] = (bytes[i] as number) ^ 0xff;
        writeFileSync(path, bytes);
      }
    }
    const bad = runScript('verify', [], { BACKUP_VERIFY_READ_DATA: '100%' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('FAILED');
    expect(metric('verify-homelab-local.prom', 'platform_backup_verify_last_run_success')).toBe(0);
    // The last good verify is kept, so its age keeps growing until a verify passes again.
    expect(metric('verify-homelab-local.prom', 'platform_backup_verify_last_success_timestamp_seconds')).toBe(lastGood);
  }, 300_000);

  it('prints no secret value, and the rendered files hold none', () => {
    const secrets = Object.values(VALUES).filter((v) => v !== SUPERUSER);
    for (const text of outputs) for (const value of secrets) expect(text).not.toContain(value);
    for (const [path, text] of tree.files) for (const value of secrets) expect(text, path).not.toContain(value);
    expect(statSync(join(scratch, 'metrics', 'backup-homelab-local.prom')).isFile()).toBe(true);
  });
});

describe('what the backup covers, on both targets', () => {
  const loaded = inlineConfig({ apps: { api: APP } });

  it('Compose: every state volume of the node read-only, models, caches and the Postgres data directory left out', () => {
    const t = renderTree(loaded, 'coolify');
    const job = t.service(DIR, 'backup');
    const targets = (job.volumes ?? []).map((v) => `${v.source}->${v.target}${v.read_only ? ':ro' : ''}`);
    expect(targets).toContain('monitoring_grafana-data->/data/monitoring/grafana-data:ro');
    expect(targets).toContain('edge_caddy-data->/data/edge/caddy-data:ro');
    expect(targets).toContain('dns_technitium-config->/data/dns/technitium-config:ro');
    expect(targets).toContain('data_minio-data->/data/data/minio-data:ro');
    expect(targets.join('\n')).not.toMatch(/postgres-data|ollama-models|caddy-config|ntfy-cache|comfyui-models/);
    expect(t.compose(DIR).volumes?.['monitoring_grafana-data']).toEqual({ external: true, name: 'monitoring_grafana-data' });
    expect(job.image).toBe(t.service('homelab/data', 'postgres').image);
    expect(job.environment).toMatchObject({ RESTIC_PASSWORD: '${BACKUP_RESTIC_PASSWORD:?}', PGUSER: '${PG_USER:?}', PGPASSWORD: '${PG_PASSWORD:?}', PGHOST: 'postgres' });
    expect(job.networks).toEqual(['zone-services']);
    const restore = (readYaml(t.files.get(`${DIR}/restore.compose.yaml`) as string) as { services: Record<string, { volumes: { target: string; read_only?: boolean }[] }> }).services.restore;
    expect(restore?.volumes.find((v) => v.target === '/data/monitoring/grafana-data')?.read_only).toBeUndefined();
    // The GPU node backs up its own outputs and ComfyUI's workflows, never its model weights.
    const gpu = plainTree().service('rtx/backup', 'backup');
    expect((gpu.volumes ?? []).map((v) => v.target)).toEqual(expect.arrayContaining(['/data/image/comfyui-user', '/data/image/comfyui-output', '/data/video/mochi-output']));
    expect(gpu.environment?.PGHOST).toBeUndefined();
  });

  it('k3s: a CronJob per node and namespace on the node of the claims, which are the claims the workloads use', async () => {
    const { output } = await renderK3s(loaded);
    const texts = new Map(output.files.map((f) => [f.path, f.content]));
    // Only the files the test reads are parsed (not every manifest of the tree).
    const files = {
      get: (path: string): Record<string, any> => {
        const text = texts.get(path);
        if (text === undefined) throw new Error(`no ${path} in the k3s tree`);
        return readYaml(text) as Record<string, any>;
      },
    };
    const cron = files.get('apps/backup/cronjob-monitoring-backup-homelab.yaml') as Record<string, any>;
    expect(cron.spec.schedule).toBe('0 3 * * *');
    expect(cron.spec.concurrencyPolicy).toBe('Forbid');
    const pod = cron.spec.jobTemplate.spec.template.spec;
    expect(pod.nodeSelector).toEqual({ 'kubernetes.io/hostname': 'homelab' });
    const claims: string[] = pod.volumes.filter((v: any) => v.persistentVolumeClaim).map((v: any) => v.persistentVolumeClaim.claimName);
    const grafana = files.get('apps/monitoring/statefulset-monitoring-grafana.yaml') as Record<string, any>;
    expect(claims).toContain(`${grafana.spec.volumeClaimTemplates[0].metadata.name}-grafana-0`);
    expect(pod.volumes.filter((v: any) => v.persistentVolumeClaim).every((v: any) => v.persistentVolumeClaim.readOnly)).toBe(true);
    const dump = files.get('apps/backup/cronjob-services-backup-homelab.yaml') as Record<string, any>;
    const env = dump.spec.jobTemplate.spec.template.spec.containers[0].env.map((e: any) => e.name);
    expect(env).toEqual(expect.arrayContaining(['BACKUP_RESTIC_PASSWORD', 'RESTIC_PASSWORD', 'PGUSER', 'PGPASSWORD', 'PGHOST']));
    expect(files.get('apps/backup/cronjob-services-verify-homelab.yaml')?.spec.schedule).toBe('0 5 * * 0');
    expect(files.get('apps/backup/cronjob-services-restore-homelab.yaml')?.spec.suspend).toBe(true);
    const app = files.get('argocd/apps/backup.yaml') as Record<string, any>;
    const waves = [...texts.keys()].filter((p) => p.startsWith('argocd/apps/') && p.endsWith('.yaml')).map((p) => Number(files.get(p).metadata.annotations?.['argocd.argoproj.io/sync-wave'] ?? 0));
    expect(waves.length).toBeGreaterThan(1);
    expect(Number(app.metadata.annotations['argocd.argoproj.io/sync-wave'])).toBe(Math.max(...waves));
    expect(texts.get('secrets/README.md')).toContain('backup-restic-password');
  });

  it('turned off, nothing of it is rendered', () => {
    const t = renderTree(inlineConfig({ backup: { enabled: false } }), 'plain');
    expect([...t.files.keys()].filter((p) => p.includes('/backup/'))).toEqual([]);
  });

  it("the Compose scheduler matches cron's fields as cron does", () => {
    const script = join(mkdtempSync(join(tmpdir(), 'platform-cron-')), 'scheduler.sh');
    writeFileSync(script, plainTree().files.get(`${DIR}/scripts/scheduler.sh`) as string);
    // [schedule, time "minute hour day month weekday", whether it matches]
    const cases: [string, string, boolean][] = [
      ['0 3 * * *', '0 3 15 6 1', true],
      ['0 3 * * *', '1 3 15 6 1', false],
      ['*/15 * * * *', '30 7 1 1 4', true],
      ['*/15 * * * *', '31 7 1 1 4', false],
      ['0 5 * * 0', '0 5 7 12 0', true],
      ['0 5 * * 7', '0 5 7 12 0', true],
      ['0 1-5/2 * * *', '0 3 1 1 1', true],
      ['0 1-5/2 * * *', '0 4 1 1 1', false],
      // Both day fields restricted: either matches (cron's rule).
      ['0 0 1 * 1', '0 0 1 3 5', true],
      ['0 0 1 * 1', '0 0 9 3 1', true],
      ['0 0 1 * 1', '0 0 9 3 5', false],
    ];
    /*
     * One bash for every case: each runs the script with `--matches SCHEDULE TIME` in a subshell of
     * its own (a fork of the running bash, not a new bash process), where the script's own
     * `set -euo pipefail` holds and its `exit` ends the subshell with cron_matches's status.
     */
    const driver = 'script=$1; shift; while [ $# -gt 0 ]; do ( set -- --matches "$1" "$2"; . "$script" ); echo "$?"; shift 2; done';
    const result = spawnSync('bash', ['-c', driver, 'matches', script, ...cases.flatMap(([schedule, time]) => [schedule, time])], { encoding: 'utf8' });
    const statuses = result.stdout.trim().split('\n');
    expect(statuses, result.stderr).toHaveLength(cases.length);
    cases.forEach(([schedule, time, matches], i) => expect(statuses[i], `'${schedule}' at '${time}'`).toBe(matches ? '0' : '1'));
  });

  it('validate warns when every destination is on the data disk', () => {
    const bind = buildPlatform(inlineConfig({ storage: { mode: 'bind', root: '/cold-storage' } }));
    expect(validatePlatform(bind).filter((f) => f.rule === 'backup-same-disk').map((f) => f.path.join('.'))).toEqual(['backup.destinations.local.path']);
    const offsite = buildPlatform(inlineConfig({ storage: { mode: 'bind', root: '/cold-storage' }, backup: { destinations: { local: { path: '/cold-storage/backups' }, offsite: { s3: { endpoint: 'https://s3.example.net', bucket: 'homelab-backups' } } } } }));
    expect(validatePlatform(offsite).filter((f) => f.rule === 'backup-same-disk')).toEqual([]);
    expect(offsite.secrets.map((s) => s.name)).toEqual(expect.arrayContaining(['BACKUP_OFFSITE_ACCESS_KEY_ID', 'BACKUP_OFFSITE_SECRET_ACCESS_KEY', 'BACKUP_RESTIC_PASSWORD']));
    const elsewhere = buildPlatform(inlineConfig({ storage: { mode: 'bind', root: '/srv/data' } }));
    expect(validatePlatform(elsewhere).filter((f) => f.rule === 'backup-same-disk')).toEqual([]);
  });
});

describe('the test support that re-wraps the repository key', () => {
  it('computes Poly1305 as RFC 8439 section 2.5.2 does', () => {
    const key = Buffer.from('85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b', 'hex');
    expect(poly1305(Buffer.from('Cryptographic Forum Research Group'), key.subarray(0, 16), key.subarray(16)).toString('hex')).toBe('a8061dc1305136c6c22b8baf0c0127a9');
  });
});
