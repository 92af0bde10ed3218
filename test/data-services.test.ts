import { describe, expect, it } from 'vitest';
import { PROVISION_SQL_PATH } from '../lib/services/postgres-provision.js';
import { configText, inlineConfig, loadFixture, renderTree } from './support/render.js';
import { podSpec, renderK3sTree } from './support/k3s.js';

/*
 * Postgres provisioning and MinIO's S3 route as both targets render them. The provisioning SQL
 * itself runs on a real Postgres in postgres.test.ts; Valkey on a real server in valkey.test.ts.
 */

describe('Postgres provisioning on both targets', () => {
  const loaded = inlineConfig({ litellm: { spendLogs: true }, apps: { api: { image: 'ghcr.io/example/api:1.0.0', port: 3000, connects: ['postgres'], healthPath: '/health' } } });

  it('Compose: a one-shot after Postgres is healthy, re-run by every `docker compose up`, no init.sql', () => {
    const tree = renderTree(loaded, 'coolify');
    const job = tree.service('homelab/data', 'postgres-provision');
    expect(job.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    expect(job.restart).toBe('no');
    // `restart: "no"` alone keeps a one-shot out of a Coolify application's status (Compose rejects exclude_from_hc).
    expect(job.exclude_from_hc).toBeUndefined();
    expect(job.user).toBe('999:999');
    expect(job.command).toContain(PROVISION_SQL_PATH);
    expect(job.environment).toMatchObject({ PGUSER: '${PG_USER:?}', PGPASSWORD: '${PG_PASSWORD:?}', PG_API_PASSWORD: '${PG_API_PASSWORD:?}', PG_LITELLM_PASSWORD: '${PG_LITELLM_PASSWORD:?}' });
    // Coolify gets the script inline.
    expect(configText(tree, 'homelab/data', 'postgres-provision', PROVISION_SQL_PATH)).toContain('CREATE DATABASE "api" OWNER "api"');
    expect(tree.service('homelab/data', 'postgres').volumes?.some((v) => String(v.target).includes('docker-entrypoint-initdb.d'))).toBe(false);
  });

  it('k3s: a hook Job on every sync with the same script, the secrets by reference', async () => {
    const tree = await renderK3sTree(loaded);
    const job = tree.get('Job', 'services', 'postgres-provision');
    expect(job.metadata.annotations['argocd.argoproj.io/hook']).toBe('PostSync');
    expect(job.metadata.annotations['argocd.argoproj.io/hook-delete-policy']).toBe('BeforeHookCreation');
    const container = podSpec(job).containers[0];
    const env = Object.fromEntries(container.env.map((e: { name: string; value?: string; valueFrom?: unknown }) => [e.name, e.value ?? e.valueFrom]));
    expect(env.PGPASSWORD).toBe('$(PG_PASSWORD)');
    expect(env.PG_API_PASSWORD).toEqual({ secretKeyRef: { name: 'pg-api-password', key: 'PG_API_PASSWORD' } });
    const compose = renderTree(loaded, 'plain').files.get('homelab/data/postgres-provision/provision.sql');
    expect(tree.get('ConfigMap', 'services', 'postgres-provision-config').data['provision.sql']).toBe(compose);
    const litellm = podSpec(tree.get('Deployment', 'edge', 'litellm')).containers[0].env;
    expect(litellm.find((e: { name: string }) => e.name === 'PG_LITELLM_PASSWORD').valueFrom).toEqual({ secretKeyRef: { name: 'pg-litellm-password', key: 'PG_LITELLM_PASSWORD' } });
    expect(litellm.find((e: { name: string }) => e.name === 'DATABASE_PASSWORD').value).toBe('$(PG_LITELLM_PASSWORD)');
    expect(litellm.some((e: { name: string }) => e.name === 'PG_PASSWORD' || e.name === 'DATABASE_URL')).toBe(false);
  });
});

describe('postgres.vectors', () => {
  const app = { image: 'ghcr.io/example/api:1.0.0', port: 3000, connects: ['postgres'], healthPath: '/health' };
  const sqlOf = (config: object) => renderTree(inlineConfig(config), 'plain').files.get('homelab/data/postgres-provision/provision.sql') as string;
  /** Databases whose section creates the extension. */
  const withVector = (sql: string) =>
    sql
      .split(/^-- (?=[a-z-]+: database )/m)
      .filter((part) => part.includes('CREATE EXTENSION IF NOT EXISTS "vector"'))
      .map((part) => part.split(':')[0]);

  it('true: in every app and extra database, never in a built-in one (LiteLLM)', () => {
    const sql = sqlOf({ litellm: { spendLogs: true }, postgres: { vectors: true, databases: ['rag'] }, apps: { api: app } });
    expect(withVector(sql)).toEqual(['api', 'rag']);
  });

  it('off: no extension and the plain Debian image', () => {
    const tree = renderTree(inlineConfig({ apps: { api: app } }), 'plain');
    expect(withVector(tree.files.get('homelab/data/postgres-provision/provision.sql') as string)).toEqual([]);
    expect(tree.service('homelab/data', 'postgres').image).toMatch(/^postgres:16\.[\d.]+-bookworm$/);
  });
});

describe('MinIO S3 API route', () => {
  it('routes the S3 API at s3.<domain> and tells MinIO its public URLs', () => {
    const tree = renderTree(loadFixture('valid', 'reference-with-apps'), 'plain');
    const caddyfile = tree.files.get('homelab/edge/caddy/Caddyfile') as string;
    expect(caddyfile).toMatch(/^s3\.example\.com \{[^}]*reverse_proxy minio:9000\n\}/m);
    expect(caddyfile).toMatch(/^minio\.example\.com \{[^}]*reverse_proxy minio:9001\n\}/m);
    expect(tree.service('homelab/data', 'minio').environment).toMatchObject({
      MINIO_SERVER_URL: 'https://s3.example.com',
      MINIO_BROWSER_REDIRECT_URL: 'https://minio.example.com',
      // The API connects to MinIO and presigns; its route lets the SPA at app.<domain> call it.
      MINIO_API_CORS_ALLOW_ORIGIN: 'https://api.example.com,https://app.example.com,https://minio.example.com',
    });
  });

  it('is probed where MinIO answers without credentials (anonymous GET / is a 403)', () => {
    const tree = renderTree(loadFixture('valid', 'reference-with-apps'), 'plain');
    const prometheus = tree.files.get('homelab/monitoring/prometheus/prometheus.yml') as string;
    expect(prometheus).toContain('- https://s3.example.com/minio/health/live');
    expect(prometheus).toMatch(/- https:\/\/minio\.example\.com\n/);
  });

  it('takes the host and extra CORS origins from minio:', () => {
    const tree = renderTree(inlineConfig({ minio: { host: 'files', cors: ['chat'] } }), 'plain');
    expect(tree.files.get('homelab/edge/caddy/Caddyfile')).toMatch(/^files\.example\.com \{[^}]*reverse_proxy minio:9000/m);
    expect(tree.service('homelab/data', 'minio').environment).toMatchObject({
      MINIO_SERVER_URL: 'https://files.example.com',
      MINIO_API_CORS_ALLOW_ORIGIN: 'https://chat.example.com,https://minio.example.com',
    });
  });

  it('k3s: the edge may reach the S3 port', async () => {
    const tree = await renderK3sTree();
    const caddy = tree.get('ConfigMap', 'edge', 'caddy-config').data.Caddyfile as string;
    expect(caddy).toContain('reverse_proxy minio.services.svc.cluster.local:9000');
  });
});
