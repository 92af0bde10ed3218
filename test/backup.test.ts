import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toolAvailable } from './support/tools.js';
import { postgresAvailable, startCluster, type TestCluster } from './support/postgres.js';
import { inlineConfig, renderTree, type RenderedTree } from './support/render.js';

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
    PATH: `${cluster.binDir}:${process.env.PATH ?? '/usr/bin:/bin'}`,
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

function restic(repo: string, args: string[]): Run {
  const result = spawnSync('restic', ['-r', repo, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', RESTIC_PASSWORD: VALUES.BACKUP_RESTIC_PASSWORD as string, HOME: scratch, RESTIC_CACHE_DIR: join(scratch, 'cache') } });
  outputs.push(result.stdout, result.stderr);
  return result;
}

describe.skipIf(!enabled)('backups, run for real (Postgres 15 and restic on 127.0.0.1)', () => {
  beforeAll(async () => {
    tree = renderTree(inlineConfig({ apps: { api: APP } }), 'plain');
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

  it('backs up the app database and every state volume, then restores them after the database is dropped', () => {
    const backup = runScript('backup');
    expect(backup.status, backup.stderr).toBe(0);
    const now = Date.now() / 1000;
    expect(metric('backup-homelab-local.prom', 'platform_backup_last_run_success')).toBe(1);
    expect(Math.abs(metric('backup-homelab-local.prom', 'platform_backup_last_success_timestamp_seconds') - now)).toBeLessThan(120);
    const snapshots = restic(join(scratch, 'repo'), ['snapshots', '--json']);
    const tags = (JSON.parse(snapshots.stdout) as { tags: string[] }[]).flatMap((s) => s.tags).filter((t) => t.startsWith('source='));
    expect(tags).toContain('source=postgres/api');
    expect(tags).toContain('source=grafana/grafana-data');

    psql('postgres', 'DROP DATABASE api');
    writeFileSync(join(scratch, 'data', 'monitoring', 'grafana-data', 'grafana.db'), 'broken');
    writeFileSync(join(scratch, 'data', 'monitoring', 'grafana-data', 'stray'), 'made after the backup');

    const restore = runScript('restore', ['all']);
    expect(restore.status, restore.stderr).toBe(0);
    expect(psql('api', 'SELECT count(*), sum(id) FROM notes', 'api', VALUES.PG_API_PASSWORD)).toBe(`5000|${(5000 * 5001) / 2}`);
    expect(psql('api', "SELECT tableowner FROM pg_tables WHERE tablename = 'notes'")).toBe('api');
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

  it('prune applies the retention (7 daily, 4 weekly, 6 monthly) to a year of snapshots', () => {
    const repo = join(scratch, 'history');
    const dump = join(scratch, 'work', 'dumps', 'api.dump');
    mkdirSync(join(scratch, 'work', 'dumps'), { recursive: true });
    writeFileSync(dump, 'old');
    expect(restic(repo, ['init']).status).toBe(0);
    const day = 86_400_000;
    const now = Date.now();
    // Daily for four weeks, then monthly back to a year ago.
    const times = [...Array.from({ length: 28 }, (_, i) => now - (i + 1) * day), ...Array.from({ length: 11 }, (_, i) => now - (35 + i * 30) * day)];
    for (const t of times) {
      const stamp = new Date(t).toISOString().slice(0, 19).replace('T', ' ');
      const r = restic(repo, ['backup', '--host', 'homelab', '--tag', 'platform', '--tag', 'source=postgres/api', '--time', stamp, dump]);
      expect(r.status, r.stderr).toBe(0);
    }
    const run = runScript('backup', [], {}, repo);
    expect(run.status, run.stderr).toBe(0);
    const kept = (JSON.parse(restic(repo, ['snapshots', '--json', '--tag', 'source=postgres/api']).stdout) as { time: string }[]).map((s) => Date.parse(s.time)).sort((a, b) => b - a);
    // The 7 newest days (today's run and the 6 before), one per week for 4 weeks, one per month for 6 months.
    expect(kept.length).toBeGreaterThanOrEqual(7 + 2);
    expect(kept.length).toBeLessThanOrEqual(7 + 4 + 6);
    for (let i = 1; i <= 6; i++) expect(kept.some((t) => Math.abs(t - (now - i * day)) < day / 2)).toBe(true);
    expect(Math.min(...kept)).toBeGreaterThan(now - 7 * 31 * day);
    expect(kept.filter((t) => t < now - 200 * day)).toEqual([]);
  }, 300_000);

  it('prints no secret value, and the rendered files hold none', () => {
    const secrets = Object.values(VALUES).filter((v) => v !== SUPERUSER);
    for (const text of outputs) for (const value of secrets) expect(text).not.toContain(value);
    for (const [path, text] of tree.files) for (const value of secrets) expect(text, path).not.toContain(value);
    expect(statSync(join(scratch, 'metrics', 'backup-homelab-local.prom')).isFile()).toBe(true);
  });
});
