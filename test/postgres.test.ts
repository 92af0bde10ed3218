import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PGVECTOR_IMAGE } from '../lib/images.js';
import { pinnedImages } from '../lib/services/registry.js';

const PINNED_IMAGES = pinnedImages();
import { PROVISION_SQL_PATH } from '../lib/services/postgres-provision.js';
import { inlineConfig, renderTree, type RenderedTree } from './support/render.js';
import { postgresAvailable, quotePlus, startCluster, type PsqlAnswer, type TestCluster } from './support/postgres.js';

/*
 * The rendered Postgres provisioning, run by a real Postgres (Debian's `postgresql`, started on
 * 127.0.0.1 in a temp folder) the way the one-shot container runs it: the command and environment
 * of `postgres-provision` from the rendered compose.yaml, the rendered provision.sql. Clients log in
 * with the environment the platform renders for them.
 */

const SUPERUSER = 'platform_admin';
/** Passwords as owners make them (openssl rand -base64, or by hand): / + = @ : % quotes, `$`, spaces. */
const PASSWORDS: Record<string, string> = {
  PG_PASSWORD: `su/+=@:%'"\\$ x`,
  PG_API_PASSWORD: 'k7/Qx+9w=@a:b%20c',
  PG_LITELLM_PASSWORD: 'Zq3/+xW8rT0p/+==@:%',
  PG_VIDEO_WORKER_PASSWORD: `it's "quoted" \\ $HOME ;-- /+=@:%`,
  PG_ANALYTICS_PASSWORD: '6f1c0e9b2a7d4c3e8f5a1b0c9d2e7f4a',
};
const CLIENTS = ['analytics', 'api', 'litellm', 'video-worker'] as const;
const passwordOf = (client: string) => PASSWORDS[`PG_${client.toUpperCase().replace(/-/g, '_')}_PASSWORD`] as string;

const APP = { image: 'ghcr.io/example/api:1.0.0', port: 3000, connects: ['postgres'], healthPath: '/health' };
const CONFIG = {
  litellm: { spendLogs: true },
  postgres: { databases: ['analytics'], vectors: ['api'] },
  apps: { api: APP, 'video-worker': APP },
};

const enabled = postgresAvailable();
let rendered: RenderedTree | undefined;
/** CONFIG rendered for plain Compose, once for the whole file (every test reads the same tree). */
const configTree = (): RenderedTree => (rendered ??= renderTree(inlineConfig(CONFIG), 'plain'));
let cluster: TestCluster;
let tree: RenderedTree;
let scratch: string;
/** The extension `vectors` asks for: pgvector when the test machine has it, else a contrib extension standing in. */
let extension = 'vector';

/** `${NAME:?}` references of a rendered environment, filled with the test's values. */
function fill(env: Record<string, string>, values: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    out[key] = value.replace(/\$\{([A-Z0-9_]+):\?\}/g, (_, name: string) => {
      const v = values[name];
      if (v === undefined) throw new Error(`no test value for ${name}`);
      return v;
    });
  }
  return out;
}

function provision(passwords: Record<string, string> = PASSWORDS): ReturnType<typeof spawnSync> & { stdout: string; stderr: string } {
  const job = tree.service('homelab/data', 'postgres-provision');
  let sql = tree.files.get('homelab/data/postgres-provision/provision.sql') as string;
  if (extension !== 'vector') sql = sql.replaceAll('CREATE EXTENSION IF NOT EXISTS "vector"', `CREATE EXTENSION IF NOT EXISTS "${extension}"`);
  const file = join(scratch, 'provision.sql');
  writeFileSync(file, sql);
  const env = { ...fill(job.environment ?? {}, { ...passwords, PG_USER: SUPERUSER }), PGHOST: '127.0.0.1', PGPORT: String(cluster.port) };
  const command = (job.command as string[]).map((arg) => (arg === PROVISION_SQL_PATH ? file : arg));
  return spawnSync(command[0] as string, command.slice(1), { encoding: 'utf8', env: { PATH: cluster.path, ...env } }) as never;
}

/** psql as the superuser on `database`. */
function asSuperuser(database: string, sql: string) {
  return asSuperuserEach(database, [sql])[0] as string;
}

/** Several commands in one psql session as the superuser, starting on `database` (`\connect` moves on); their rows, each command's own. */
function asSuperuserEach(database: string, commands: string[]): string[] {
  const answers = cluster.psqlEach({ PGUSER: SUPERUSER, PGPASSWORD: PASSWORDS.PG_PASSWORD as string, PGDATABASE: database }, commands);
  const refused = answers.findIndex((answer) => answer.failed || answer.stderr !== '');
  if (refused !== -1) throw new Error(`${commands[refused]}: ${answers[refused]?.stderr}`);
  return answers.map((answer) => answer.stdout);
}

/** psql's meta-command that opens a new connection to `database` with the session's environment (PGUSER, PGPASSWORD), even after a refused one. */
const connectTo = (database: string) => `\\connect -reuse-previous=off dbname=${database}`;

/** An app's rendered libpq environment (PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD), pointed at the test server. */
function appEnv(app: string, passwords: Record<string, string> = PASSWORDS): Record<string, string> {
  const env = tree.service('homelab/apps', app).environment ?? {};
  const pg = Object.fromEntries(Object.entries(env).filter(([k]) => /^PG(HOST|PORT|DATABASE|USER|PASSWORD)$/.test(k)));
  return { ...fill(pg, passwords), PGHOST: '127.0.0.1', PGPORT: String(cluster.port) };
}

describe.skipIf(!enabled)('Postgres provisioning on a real Postgres', () => {
  beforeAll(async () => {
    tree = configTree();
    scratch = mkdtempSync(join(tmpdir(), 'platform-provision-'));
    cluster = await startCluster(SUPERUSER, PASSWORDS.PG_PASSWORD as string);
    if (!existsSync(join(cluster.shareDir, 'extension', 'vector.control'))) extension = 'citext';
    // What an earlier deploy left behind: LiteLLM's database made by init.sql, its tables created as the superuser.
    asSuperuserEach('postgres', ['CREATE DATABASE litellm', connectTo('litellm'), 'CREATE TABLE "LiteLLM_SpendLogs" (id serial PRIMARY KEY, spend numeric); INSERT INTO "LiteLLM_SpendLogs" (spend) VALUES (1.5)']);
  }, 120_000);
  afterAll(() => {
    cluster?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('runs twice over a live cluster: same result, data kept', () => {
    const first = provision();
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toContain('provisioned analytics, api, litellm, video-worker');
    const api = appEnv('api');
    expect(cluster.psql(api, ['-v', 'ON_ERROR_STOP=1', '-c', "CREATE TABLE notes (body text); INSERT INTO notes VALUES ('kept')"]).status).toBe(0);
    const second = provision();
    expect(second.status, second.stderr).toBe(0);
    // One session as api: its row is still there, and the databases (pg_database is readable by every role) are the same five.
    const [kept, databases] = cluster.psqlEach(api, ['SELECT body FROM notes', "SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database WHERE datname NOT LIKE 'template%'"]);
    expect(kept?.stdout, kept?.stderr).toBe('kept');
    expect(databases?.stdout, databases?.stderr).toBe('analytics,api,litellm,postgres,video-worker');
  });

  /** The databases a client must not reach: every other client's and the maintenance database. */
  const othersOf = (client: string) => [...CLIENTS.filter((c) => c !== client), 'postgres'];
  let clientSessions: Map<string, PsqlAnswer[]> | undefined;
  /**
   * One psql session per client, shared by the two tests below (each reads its own part): a psql
   * process costs a fork, an exec and a SCRAM login, and both tests only read what the client's
   * role may do. The client logs in to its own database (psqlEach throws if the login fails), asks
   * who it is, tries to create a role and a database, then each \connect is a new login as the
   * client to another database, followed by a query.
   */
  function clientSession(client: string): PsqlAnswer[] {
    clientSessions ??= new Map(
      CLIENTS.map((c) => [
        c,
        cluster.psqlEach({ PGUSER: c, PGPASSWORD: passwordOf(c), PGDATABASE: c }, [
          'SELECT current_user, current_database(), r.rolsuper, r.rolcreaterole, r.rolcreatedb FROM pg_roles r WHERE r.rolname = current_user',
          'CREATE ROLE intruder',
          'CREATE DATABASE intruder',
          'SELECT current_database()',
          ...othersOf(c).flatMap((other) => [connectTo(other), 'SELECT current_database()']),
        ]),
      ]),
    );
    return clientSessions.get(client) as PsqlAnswer[];
  }

  it('gives each client a login role that owns its database and is not superuser', () => {
    for (const client of CLIENTS) {
      const [who, role, database] = clientSession(client);
      expect(who?.failed, who?.stderr).toBe(false);
      expect(who?.stdout, client).toBe(`${client}|${client}|f|f|f`);
      expect(role?.failed).toBe(true);
      expect(role?.stderr).toMatch(/permission denied/);
      expect(database?.failed).toBe(true);
      expect(database?.stderr).toMatch(/permission denied/);
    }
  });

  it("refuses each client another client's database and the maintenance database", () => {
    for (const client of CLIENTS) {
      const answers = clientSession(client).slice(3);
      expect(answers[0]?.stdout).toBe(client);
      othersOf(client).forEach((other, i) => {
        const [connect, query] = [answers[1 + 2 * i], answers[2 + 2 * i]];
        expect(connect?.stderr, `${client} -> ${other}`).toContain(`FATAL:  permission denied for database "${other}"`);
        // Refused: psql is left with no connection, so nothing ran in `other`.
        expect(query?.stdout, `${client} -> ${other}`).toBe('');
        expect(query?.stderr).toBe('You are currently not connected to a database.');
      });
    }
  });

  it('hands tables an earlier deploy made as the superuser to the client, rows untouched', () => {
    const env = { PGUSER: 'litellm', PGPASSWORD: PASSWORDS.PG_LITELLM_PASSWORD as string, PGDATABASE: 'litellm' };
    const [rows, migrate] = cluster.psqlEach(env, ['SELECT spend FROM "LiteLLM_SpendLogs"', 'ALTER TABLE "LiteLLM_SpendLogs" ADD COLUMN model text; INSERT INTO "LiteLLM_SpendLogs" (spend) VALUES (2)']);
    expect(rows?.stdout).toBe('1.5');
    expect(migrate?.failed, migrate?.stderr).toBe(false);
    expect(migrate?.stderr).toBe('');
  });

  it('creates the vector extension only in the databases that ask for it', () => {
    expect(tree.service('homelab/data', 'postgres').image).toBe(PGVECTOR_IMAGE);
    const sql = tree.files.get('homelab/data/postgres-provision/provision.sql') as string;
    expect(sql.match(/CREATE EXTENSION IF NOT EXISTS "vector"/g)).toHaveLength(1);
    const count = `SELECT count(*) FROM pg_extension WHERE extname = '${extension}'`;
    // pg_extension is per database: one session that connects to each in turn.
    const installed = asSuperuserEach('postgres', CLIENTS.flatMap((db) => [connectTo(db), count])).filter((_, i) => i % 2 === 1);
    CLIENTS.forEach((db, i) => expect(installed[i], db).toBe(db === 'api' ? '1' : '0'));
  });

  it('sets a new password on the next run and stops taking the old one', () => {
    const rotated = { ...PASSWORDS, PG_VIDEO_WORKER_PASSWORD: 'n3w/+=@:%pass' };
    expect(provision(rotated).status).toBe(0);
    expect(cluster.psql(appEnv('video-worker', rotated), ['-c', 'SELECT current_user']).stdout.trim()).toBe('video-worker');
    expect(cluster.psql(appEnv('video-worker'), ['-c', 'SELECT 1']).stderr).toMatch(/password authentication failed/);
    expect(provision().status).toBe(0);
  });

  it('fails, naming the variable, when a client password is missing', () => {
    const result = provision({ ...PASSWORDS, PG_API_PASSWORD: '' });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('PG_API_PASSWORD is empty or unset: it is the password of role api');
  });

  it('refuses a data directory initialised by a musl (Alpine) build until it is reindexed', () => {
    // What an Alpine-initialised cluster looks like in the catalog: a libc collation with no version.
    asSuperuserEach('postgres', ['CREATE DATABASE legacy', "UPDATE pg_database SET datcollate = 'en_US.utf8', datcollversion = NULL WHERE datname = 'legacy'"]);
    const refused = provision();
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('databases legacy have no collation version');
    expect(refused.stderr).toContain('REINDEX DATABASE');
    expect(refused.stderr).toContain('pg_dumpall');
    // The hint's way out once reindexed (REFRESH COLLATION VERSION refuses a missing version).
    asSuperuser('postgres', "UPDATE pg_database SET datcollversion = pg_database_collation_actual_version(oid) WHERE datname = 'legacy'");
    expect(provision().status).toBe(0);
  });

  describe('connection settings survive any password (issue: / + = @ : % in URLs)', () => {
    it('apps connect with the rendered libpq variables, the password never inside a URL', () => {
      for (const app of ['api', 'video-worker']) {
        const env = appEnv(app);
        expect(env.PGPASSWORD).toBe(passwordOf(app));
        const result = cluster.psql(env, ['-c', 'SELECT current_user']);
        expect(result.stdout.trim(), result.stderr).toBe(app);
      }
    });

    it("LiteLLM connects through the URL it builds from the rendered parts (proxy_cli's quote_plus)", () => {
      const rendered = tree.service('homelab/llm', 'litellm').environment ?? {};
      const env = fill(Object.fromEntries(Object.entries(rendered).filter(([k]) => k.startsWith('DATABASE_'))), PASSWORDS);
      expect(rendered.DATABASE_URL).toBeUndefined();
      expect(env.DATABASE_HOST).toBe('postgres:5432');
      const url = `postgresql://${quotePlus(env.DATABASE_USERNAME as string)}:${quotePlus(env.DATABASE_PASSWORD as string)}@127.0.0.1:${cluster.port}/${quotePlus(env.DATABASE_NAME as string)}`;
      const result = spawnSync('psql', ['-X', '-A', '-t', url, '-c', 'SELECT current_user'], { encoding: 'utf8', env: { PATH: cluster.path } });
      expect(result.stdout.trim(), result.stderr).toBe('litellm');
      // What text substitution into a URL did before: the same password breaks it.
      const naive = `postgresql://litellm:${PASSWORDS.PG_LITELLM_PASSWORD}@127.0.0.1:${cluster.port}/litellm`;
      expect(spawnSync('psql', ['-X', naive, '-c', 'SELECT 1'], { encoding: 'utf8', env: { PATH: cluster.path } }).status).not.toBe(0);
    });

    it('generates role passwords as hex (URL-safe) and names the generator in .env.example', () => {
      const example = tree.files.get('homelab/data/.env.example') as string;
      for (const name of ['PG_API_PASSWORD', 'PG_LITELLM_PASSWORD', 'PG_VIDEO_WORKER_PASSWORD', 'PG_ANALYTICS_PASSWORD']) {
        expect(example).toMatch(new RegExp(`Make one: openssl rand -hex 16\\n${name}=`));
      }
    });
  });
});

describe('Postgres clients never see the superuser', () => {
  const tree = configTree();
  it('only the provisioning job, the backup job and the server reference PG_USER / PG_PASSWORD', () => {
    for (const dir of tree.composeDirs()) {
      for (const [name, service] of Object.entries(tree.compose(dir).services)) {
        const values = Object.values(service.environment ?? {}).join(' ');
        // The backup job dumps every database, and restores into new ones: the superuser's work.
        if (name === 'postgres' || name === 'postgres-provision' || (dir.endsWith('/backup') && name === 'backup')) continue;
        expect(values, `${dir}/${name}`).not.toMatch(/\$\{PG_(USER|PASSWORD):\?\}/);
      }
    }
  });

  it('keeps one image family: the default image and the pgvector image are both Debian builds', () => {
    expect(PINNED_IMAGES.postgres).toMatch(/-bookworm$/);
    // pgvector's Dockerfile builds FROM postgres:<major>-bookworm; its tags carry the major only.
    expect(PGVECTOR_IMAGE).toMatch(/^pgvector\/pgvector:[\d.]+-pg16$/);
    expect(PINNED_IMAGES.postgres).toMatch(/^postgres:16\./);
    const plain = renderTree(inlineConfig({}), 'plain');
    expect(plain.service('homelab/data', 'postgres').image).toBe(PINNED_IMAGES.postgres);
    expect(plain.service('homelab/data', 'postgres-provision').image).toBe(PINNED_IMAGES.postgres);
  });
});
