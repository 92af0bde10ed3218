import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceConfig } from '../lib/config/load.js';
import { NAME_LABEL } from '../lib/k3s/names.js';
import type { Service } from '../lib/model/service.js';
import { generateValue, valueProblem } from '../lib/secrets/rules.js';
import { PROVISION_SQL_PATH } from '../lib/services/postgres-provision.js';
import { buildPlatform } from '../lib/synth.js';
import { validate } from '../lib/validate/validate.js';
import { podSpec, renderK3sTree } from './support/k3s.js';
import { connectionAllowed, type PodRef } from './support/network-policy.js';
import { postgresAvailable, startCluster, type TestCluster } from './support/postgres.js';
import { loadFixture, renderTree, type RenderedTree } from './support/render.js';
import { readYaml } from './support/yaml.js';

/*
 * n8n and Langfuse, the catalog services added as one descriptor file each (lib/services/n8n.ts,
 * lib/services/langfuse.ts): off by default, on with `services.<name>.enabled: true`
 * (test/fixtures/valid/catalog.yaml turns on all three catalog services).
 *
 * What the images read, as read upstream:
 * - n8n (docs.n8n.io): DB_TYPE=postgresdb and DB_POSTGRESDB_HOST/PORT/DATABASE/USER/PASSWORD
 *   ("Database environment variables"); N8N_ENCRYPTION_KEY, N8N_HOST, N8N_PROTOCOL, WEBHOOK_URL
 *   ("Deployment"); "Isolate n8n" turns off N8N_DIAGNOSTICS_ENABLED, N8N_VERSION_NOTIFICATIONS_ENABLED
 *   and N8N_TEMPLATES_ENABLED and empties EXTERNAL_FRONTEND_HOOKS_URLS and
 *   N8N_DIAGNOSTICS_CONFIG_FRONTEND/BACKEND; "Monitor n8n": /healthz.
 * - Langfuse v2.95.12 (langfuse/langfuse): web/entrypoint.sh builds
 *   `postgresql://${DATABASE_USERNAME}:${DATABASE_PASSWORD}@${DATABASE_HOST}/${DATABASE_NAME}` when
 *   DATABASE_URL is unset; web/src/env.mjs declares TELEMETRY_ENABLED, AUTH_DISABLE_SIGNUP,
 *   ENCRYPTION_KEY (64 hex) and LANGFUSE_INIT_*; web/src/initialize.ts creates the organisation,
 *   project, key pair and owner from LANGFUSE_INIT_*; web/src/pages/api/public/health.ts.
 * - LiteLLM (litellm/integrations/langfuse/langfuse.py, LangFuseLogger): LANGFUSE_PUBLIC_KEY,
 *   LANGFUSE_SECRET_KEY, LANGFUSE_HOST (default https://cloud.langfuse.com); the proxy turns it on
 *   with `litellm_settings.success_callback: ["langfuse"]`.
 */
const loaded = () => loadFixture('valid', 'catalog');
let rendered: RenderedTree | undefined;
/** The catalog fixture rendered for Coolify, once for the whole file (the tests only read it). */
const catalogTree = (): RenderedTree => (rendered ??= renderTree(loaded()));
const podRef = (service: Service): PodRef => ({ namespace: service.zone.namespace, labels: { [NAME_LABEL]: service.name }, ip: '10.42.0.10' });

describe('n8n and langfuse are off by default', () => {
  it('the reference platform has neither, and LiteLLM sends no traces', () => {
    const platform = buildPlatform(referenceConfig());
    expect(platform.service('n8n')).toBeUndefined();
    expect(platform.service('langfuse')).toBeUndefined();
    expect(platform.service('litellm')?.env.LANGFUSE_HOST).toBeUndefined();
    const tree = renderTree();
    expect(tree.files.get('homelab/llm/litellm/config.yaml') ?? configOf(tree)).not.toContain('langfuse');
  });
});

/** LiteLLM's rendered config.yaml, whichever flavour carries it. */
function configOf(tree: RenderedTree): string {
  const file = tree.files.get('homelab/llm/litellm/config.yaml');
  if (file !== undefined) return file;
  const doc = readYaml(tree.files.get('homelab/llm/compose.yaml') as string) as { configs: Record<string, { content: string }> };
  const config = Object.entries(doc.configs).find(([name]) => name.includes('litellm'));
  return (config?.[1].content ?? '').replaceAll('$$', '$');
}

describe('n8n on', () => {
  const tree = catalogTree();
  const n8n = tree.service('homelab/automation', 'n8n');

  it('runs the pinned image as node (1000) with its state volume at /home/node/.n8n', () => {
    expect(n8n.image).toBe('n8nio/n8n:1.119.2');
    expect(n8n.volumes).toEqual([{ type: 'volume', source: 'n8n-data', target: '/home/node/.n8n' }]);
    const platform = buildPlatform(loaded());
    const service = platform.service('n8n') as Service;
    expect(service.volumes).toEqual([{ name: 'n8n-data', mountPath: '/home/node/.n8n', sizeGb: 5, holds: 'state' }]);
    expect(service.runAsUid).toBe(1000);
  });

  it('keeps its workflows in its own Postgres database, the password on its own (no URL)', () => {
    expect(n8n.environment).toMatchObject({
      DB_TYPE: 'postgresdb',
      DB_POSTGRESDB_HOST: 'postgres',
      DB_POSTGRESDB_PORT: '5432',
      DB_POSTGRESDB_DATABASE: 'n8n',
      DB_POSTGRESDB_USER: 'n8n',
      DB_POSTGRESDB_PASSWORD: '${PG_N8N_PASSWORD:?}',
    });
    expect(Object.values(n8n.environment ?? {}).some((v) => /postgres(ql)?:\/\//.test(v))).toBe(false);
    expect(n8n.networks).toContain('zone-services');
  });

  it('encrypts credentials with a generated key that is never rotated by --all', () => {
    expect(n8n.environment?.N8N_ENCRYPTION_KEY).toBe('${N8N_ENCRYPTION_KEY:?}');
    const key = buildPlatform(loaded()).secrets.find((s) => s.name === 'N8N_ENCRYPTION_KEY');
    expect(key).toMatchObject({ generate: 'password64', readOnce: true });
    expect(tree.files.get('homelab/automation/.env.example')).toContain('N8N_ENCRYPTION_KEY=');
  });

  it('names its route in the URLs it hands out, and phones nobody home', () => {
    expect(n8n.environment).toMatchObject({
      N8N_HOST: 'n8n.example.com',
      N8N_PROTOCOL: 'https',
      WEBHOOK_URL: 'https://n8n.example.com/',
      N8N_DIAGNOSTICS_ENABLED: 'false',
      N8N_DIAGNOSTICS_CONFIG_FRONTEND: '',
      N8N_DIAGNOSTICS_CONFIG_BACKEND: '',
      EXTERNAL_FRONTEND_HOOKS_URLS: '',
      N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
      N8N_TEMPLATES_ENABLED: 'false',
    });
    expect((n8n.healthcheck as { test?: string[] } | undefined)?.test).toEqual(['CMD', 'wget', '-q', '-O', '/dev/null', 'http://127.0.0.1:5678/healthz']);
  });

  it('is routed at n8n.<domain> behind its own login (no basic auth, webhooks must reach it)', () => {
    const platform = buildPlatform(loaded());
    const route = platform.routes.find((r) => r.service?.name === 'n8n');
    expect(route).toMatchObject({ host: 'n8n', port: 5678 });
    const caddyfile = tree.files.get('homelab/edge/caddy/Caddyfile') ?? (tree.files.get('homelab/edge/compose.yaml') as string);
    const site = caddyfile.slice(caddyfile.indexOf('n8n.example.com {'));
    expect(site.slice(0, site.indexOf('\n}'))).not.toContain('basic_auth');
  });
});

describe('langfuse on', () => {
  const tree = catalogTree();
  const langfuse = tree.service('homelab/llm', 'langfuse');
  const litellm = tree.service('homelab/llm', 'litellm');

  it('runs Langfuse v2 (one container, Postgres only) as nextjs (1001), with no volume', () => {
    expect(langfuse.image).toBe('langfuse/langfuse:2.95.12');
    expect(langfuse.volumes).toBeUndefined();
    expect((buildPlatform(loaded()).service('langfuse') as Service).runAsUid).toBe(1001);
    expect((langfuse.healthcheck as { test?: string[] } | undefined)?.test).toEqual(['CMD', 'wget', '-q', '-O', '/dev/null', 'http://127.0.0.1:3000/api/public/health']);
  });

  it('gets its database as parts, never as a DATABASE_URL with the password in it', () => {
    expect(langfuse.environment).toMatchObject({
      DATABASE_HOST: 'postgres:5432',
      DATABASE_USERNAME: 'langfuse',
      DATABASE_PASSWORD: '${PG_LANGFUSE_PASSWORD:?}',
      DATABASE_NAME: 'langfuse',
    });
    expect(langfuse.environment?.DATABASE_URL).toBeUndefined();
  });

  it('takes its keys from generated secrets: ENCRYPTION_KEY is 64 hex, SALT and the owner password are read once', () => {
    expect(langfuse.environment).toMatchObject({
      NEXTAUTH_URL: 'https://langfuse.example.com',
      NEXTAUTH_SECRET: '${LANGFUSE_NEXTAUTH_SECRET:?}',
      SALT: '${LANGFUSE_SALT:?}',
      ENCRYPTION_KEY: '${LANGFUSE_ENCRYPTION_KEY:?}',
      HOSTNAME: '0.0.0.0',
      TELEMETRY_ENABLED: 'false',
      AUTH_DISABLE_SIGNUP: 'true',
    });
    const secrets = new Map(buildPlatform(loaded()).secrets.map((s) => [s.name, s]));
    const encryption = secrets.get('LANGFUSE_ENCRYPTION_KEY')!;
    expect(encryption).toMatchObject({ generate: 'hex64', readOnce: true, howToGenerate: 'openssl rand -hex 32' });
    const value = generateValue(encryption);
    expect(value).toMatch(/^[0-9a-f]{64}$/);
    expect(valueProblem(encryption, value)).toBeUndefined();
    expect(valueProblem(encryption, value.slice(0, 32))).toBe('must be exactly 64 hex digits');
    expect(secrets.get('LANGFUSE_SALT')?.readOnce).toBe(true);
    expect(secrets.get('LANGFUSE_ADMIN_PASSWORD')?.readOnce).toBe(true);
    expect(secrets.get('LANGFUSE_NEXTAUTH_SECRET')?.readOnce).toBe(false);
  });

  it('creates its owner, organisation, project and key pair at first start (LANGFUSE_INIT_*)', () => {
    expect(langfuse.environment).toMatchObject({
      LANGFUSE_INIT_ORG_ID: 'homelab',
      LANGFUSE_INIT_PROJECT_ID: 'litellm',
      LANGFUSE_INIT_PROJECT_PUBLIC_KEY: '${LANGFUSE_PUBLIC_KEY:?}',
      LANGFUSE_INIT_PROJECT_SECRET_KEY: '${LANGFUSE_SECRET_KEY:?}',
      LANGFUSE_INIT_USER_EMAIL: 'admin@example.com',
      LANGFUSE_INIT_USER_PASSWORD: '${LANGFUSE_ADMIN_PASSWORD:?}',
    });
    const secrets = new Map(buildPlatform(loaded()).secrets.map((s) => [s.name, s]));
    const publicKey = secrets.get('LANGFUSE_PUBLIC_KEY')!;
    const secretKey = secrets.get('LANGFUSE_SECRET_KEY')!;
    expect(generateValue(publicKey)).toMatch(/^pk-lf-[0-9a-f]{48}$/);
    expect(generateValue(secretKey)).toMatch(/^sk-lf-[0-9a-f]{48}$/);
    expect(secretKey.readOnce).toBe(true);
  });

  it('LiteLLM sends every request to it as a trace, with the same key pair, over the edge zone', () => {
    expect(litellm.environment).toMatchObject({
      LANGFUSE_PUBLIC_KEY: '${LANGFUSE_PUBLIC_KEY:?}',
      LANGFUSE_SECRET_KEY: '${LANGFUSE_SECRET_KEY:?}',
      LANGFUSE_HOST: 'http://langfuse:3000',
    });
    const config = readYaml(configOf(tree)) as { litellm_settings: Record<string, unknown> };
    expect(config.litellm_settings.success_callback).toEqual(['langfuse']);
    expect(config.litellm_settings.failure_callback).toEqual(['langfuse']);
    // Traces are sent in the background: LiteLLM does not wait for Langfuse to start.
    expect(Object.keys(litellm.depends_on ?? {})).not.toContain('langfuse');
    const platform = buildPlatform(loaded());
    expect(platform.connections.some((c) => c.from.name === 'litellm' && c.to.name === 'langfuse' && c.port === 3000)).toBe(true);
  });

  it('is routed at langfuse.<domain> behind its own login', () => {
    const route = buildPlatform(loaded()).routes.find((r) => r.service?.name === 'langfuse');
    expect(route).toMatchObject({ host: 'langfuse', port: 3000 });
  });
});

describe('the catalog fixture passes every check', () => {
  it('validate finds no error and lists no third-party destination for n8n or langfuse beyond the workflows', async () => {
    const result = await validate(loaded);
    expect(result.errors).toBe(0);
    expect(result.egress.filter((e) => e.from === 'langfuse')).toEqual([]);
    expect(result.egress.filter((e) => e.from === 'n8n').map((e) => e.host)).toEqual(['internet']);
  });
});

describe('n8n and langfuse on k3s', () => {
  it('n8n: a StatefulSet probed on /healthz, its key from its Secret; langfuse: a Deployment; only their callers let in', async () => {
    const tree = await renderK3sTree(loaded());
    const n8n = podSpec(tree.get('StatefulSet', 'edge', 'n8n')).containers[0];
    expect(n8n.readinessProbe.httpGet).toMatchObject({ path: '/healthz', port: 5678 });
    expect(n8n.env).toContainEqual({ name: 'N8N_ENCRYPTION_KEY', valueFrom: { secretKeyRef: { name: 'n8n-encryption-key', key: 'N8N_ENCRYPTION_KEY' } } });
    expect(podSpec(tree.get('StatefulSet', 'edge', 'n8n')).securityContext).toMatchObject({ runAsUser: 1000, runAsNonRoot: true });
    const langfuse = podSpec(tree.get('Deployment', 'edge', 'langfuse')).containers[0];
    expect(langfuse.readinessProbe.httpGet).toMatchObject({ path: '/api/public/health', port: 3000 });
    expect(langfuse.env).toContainEqual({ name: 'LANGFUSE_ENCRYPTION_KEY', valueFrom: { secretKeyRef: { name: 'langfuse-encryption-key', key: 'LANGFUSE_ENCRYPTION_KEY' } } });

    const policies = tree.all('NetworkPolicy');
    const service = (name: string) => tree.platform.service(name) as Service;
    expect(connectionAllowed(policies, podRef(service('litellm')), podRef(service('langfuse')), 3000)).toBe(true);
    expect(connectionAllowed(policies, podRef(service('n8n')), podRef(service('postgres')), 5432)).toBe(true);
    expect(connectionAllowed(policies, podRef(service('langfuse')), podRef(service('postgres')), 5432)).toBe(true);
    expect(connectionAllowed(policies, podRef(service('grafana')), podRef(service('langfuse')), 3000)).toBe(false);
    expect(connectionAllowed(policies, podRef(service('open-webui')), podRef(service('n8n')), 5678)).toBe(false);
  });
});

/*
 * The rendered provisioning on a real Postgres, as test/postgres.test.ts runs it: n8n's and
 * Langfuse's roles and databases exist, each logs in with what it is given, owns its database
 * (their migrations create tables) and nothing more.
 */
const SUPERUSER = 'platform_admin';
const PASSWORDS: Record<string, string> = {
  PG_USER: SUPERUSER,
  PG_PASSWORD: 'su/+=@:%x',
  // n8n passes the parts to node-postgres: any character works.
  PG_N8N_PASSWORD: `n8n/+=@:%'"\\ $x`,
  // Langfuse pastes the password into a URL: a generated (hex) password.
  PG_LANGFUSE_PASSWORD: '6f1c0e9b2a7d4c3e8f5a1b0c9d2e7f4a',
  PG_LITELLM_PASSWORD: 'litellm-password-0123',
};

function fill(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).map(([key, value]) => [key, value.replace(/\$\{([A-Z0-9_]+):\?\}/g, (_, name: string) => PASSWORDS[name] ?? `\${${name}}`)]),
  );
}

describe.skipIf(!postgresAvailable())('n8n and langfuse on a real Postgres', () => {
  let cluster: TestCluster;
  let scratch: string;
  let tree: RenderedTree;
  beforeAll(async () => {
    tree = renderTree(loaded(), 'plain');
    scratch = mkdtempSync(join(tmpdir(), 'platform-catalog-'));
    cluster = await startCluster(SUPERUSER, PASSWORDS.PG_PASSWORD as string);
    const job = tree.service('homelab/data', 'postgres-provision');
    const file = join(scratch, 'provision.sql');
    writeFileSync(file, tree.files.get('homelab/data/postgres-provision/provision.sql') as string);
    const env = { ...fill(job.environment ?? {}), PGHOST: '127.0.0.1', PGPORT: String(cluster.port) };
    const command = (job.command as string[]).map((arg) => (arg === PROVISION_SQL_PATH ? file : arg));
    const result = spawnSync(command[0] as string, command.slice(1), { encoding: 'utf8', env: { PATH: cluster.path, ...env } });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('provisioned langfuse, n8n');
  }, 120_000);
  afterAll(() => {
    cluster?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('n8n logs in with its rendered DB_POSTGRESDB_* parts, owns its database and may create tables', () => {
    const env = fill(tree.service('homelab/automation', 'n8n').environment ?? {});
    const pg = { PGUSER: env.DB_POSTGRESDB_USER!, PGPASSWORD: env.DB_POSTGRESDB_PASSWORD!, PGDATABASE: env.DB_POSTGRESDB_DATABASE! };
    expect(pg.PGPASSWORD).toBe(PASSWORDS.PG_N8N_PASSWORD);
    // One psql session as n8n (psqlEach throws if its login fails); the last command is a new login as n8n to langfuse's database.
    const [who, create, other] = cluster.psqlEach(pg, [
      'SELECT current_user, current_database(), rolsuper FROM pg_roles WHERE rolname = current_user',
      'CREATE TABLE workflow_entity (id text PRIMARY KEY)',
      '\\connect -reuse-previous=off dbname=langfuse',
    ]);
    expect(who?.stdout, who?.stderr).toBe('n8n|n8n|f');
    expect(create?.failed, create?.stderr).toBe(false);
    expect(other?.stderr).toContain('permission denied for database "langfuse"');
  });

  it("langfuse logs in through the URL its entrypoint builds from the rendered parts, and may create tables", () => {
    const env = fill(tree.service('homelab/llm', 'langfuse').environment ?? {});
    // web/entrypoint.sh: postgresql://${DATABASE_USERNAME}:${DATABASE_PASSWORD}@${DATABASE_HOST}/${DATABASE_NAME}
    const host = (env.DATABASE_HOST as string).replace(/^postgres:5432$/, `127.0.0.1:${cluster.port}`);
    const url = `postgresql://${env.DATABASE_USERNAME}:${env.DATABASE_PASSWORD}@${host}/${env.DATABASE_NAME}`;
    // One login through the URL for both statements: ON_ERROR_STOP makes the exit status say whether both ran.
    const session = spawnSync('psql', ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', url, '-c', 'SELECT current_user, current_database()', '-c', 'CREATE TABLE traces (id text PRIMARY KEY)'], { encoding: 'utf8', env: { PATH: cluster.path } });
    expect(session.stdout.trim(), session.stderr).toBe('langfuse|langfuse');
    expect(session.status, session.stderr).toBe(0);
    // Why its password must be URL-safe: a hand-made one with / or @ breaks the URL it builds.
    const broken = url.replace(env.DATABASE_PASSWORD as string, 'pa/ss@word');
    expect(spawnSync('psql', ['-X', broken, '-c', 'SELECT 1'], { encoding: 'utf8', env: { PATH: cluster.path } }).status).not.toBe(0);
  });
});
