import { Platform } from '../model/platform.js';
import { Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import { defineService } from './descriptor.js';
import { catalogProps, type CatalogServiceProps } from './common.js';
import { POSTGRES_PORT, type Postgres } from './postgres.js';

/** n8n's editor, REST API and webhooks (N8N_PORT). */
export const N8N_PORT = 5678;

/** Where n8n keeps its settings file, its binary data and its logs: the home of the image's `node` user. */
export const N8N_DATA_PATH = '/home/node/.n8n';

/** The image's `node` user (uid 1000): the n8n Dockerfile ends with `USER node`. */
export const N8N_UID = 1000;

/** The site n8n is served at: `n8n.<domain>`. */
export const N8N_HOST = 'n8n';

export interface N8nProps extends CatalogServiceProps {
  /** Its database: workflows, credentials (encrypted) and executions. */
  readonly postgres: Postgres;
}

/**
 * n8n: workflow automation, off by default (`services.n8n.enabled: true`). Workflows, credentials
 * and executions live in its own Postgres database (`DB_TYPE=postgresdb` and the
 * `DB_POSTGRESDB_*` parts: no connection URL). Credentials are encrypted with
 * `N8N_ENCRYPTION_KEY`; n8n writes a random one into `~/.n8n/config` when none is set, so the
 * platform sets it from a secret kept in the store, and marks it read-once: a new key cannot
 * decrypt the credentials already saved.
 *
 * Nothing phones home: diagnostics (telemetry.n8n.io), version notifications (api.n8n.io) and
 * the template gallery (api.n8n.io) are off and the diagnostics endpoints emptied, as n8n's
 * "Isolate n8n" page lists (docs.n8n.io, hosting/configuration/configuration-examples/isolation).
 * Workflows themselves call whatever services you build them for, so n8n has a way out.
 *
 * `/metrics` (N8N_METRICS) is left off: it is served on the same port as the editor, which Caddy
 * routes, and n8n's docs warn not to expose it publicly.
 */
export class N8n extends Service {
  constructor(stack: Stack, props: N8nProps) {
    const platform = Platform.of(stack);
    const postgres = props.postgres;
    const db = postgres.database('n8n', { configPath: ['services', 'n8n'] });
    const site = platform.fqdn(N8N_HOST);
    super(
      stack,
      'n8n',
      catalogProps('n8n', props, {
        description: 'Workflow automation (n8n) on Postgres',
        env: {
          DB_TYPE: 'postgresdb',
          DB_POSTGRESDB_HOST: (r) => r.address(postgres, POSTGRES_PORT).host,
          DB_POSTGRESDB_PORT: (r) => String(r.address(postgres, POSTGRES_PORT).port),
          DB_POSTGRESDB_DATABASE: db.name,
          DB_POSTGRESDB_USER: db.role,
          DB_POSTGRESDB_PASSWORD: db.password,
          N8N_ENCRYPTION_KEY: platform.secret('N8N_ENCRYPTION_KEY', {
            generate: 'password64',
            readOnce: true,
            description: 'n8n credentials encryption key (a new one cannot decrypt the credentials already saved)',
          }),
          // The editor and the webhook URLs it shows are those of the route, not of the container.
          N8N_HOST: site,
          N8N_PROTOCOL: 'https',
          N8N_PORT: String(N8N_PORT),
          N8N_LISTEN_ADDRESS: '0.0.0.0',
          WEBHOOK_URL: `https://${site}/`,
          N8N_EDITOR_BASE_URL: `https://${site}/`,
          // One proxy (Caddy) in front: n8n reads the client address from X-Forwarded-For.
          N8N_PROXY_HOPS: '1',
          N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'true',
          // Code nodes run in n8n's task runner, not in the main process (n8n 1.x warns without it).
          N8N_RUNNERS_ENABLED: 'true',
          // The user's rule: no telemetry leaves the homelab.
          N8N_DIAGNOSTICS_ENABLED: 'false',
          N8N_DIAGNOSTICS_CONFIG_FRONTEND: '',
          N8N_DIAGNOSTICS_CONFIG_BACKEND: '',
          EXTERNAL_FRONTEND_HOOKS_URLS: '',
          N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
          N8N_TEMPLATES_ENABLED: 'false',
          N8N_PERSONALIZATION_ENABLED: 'false',
        },
        ports: [{ port: N8N_PORT, name: 'http', authentication: 'password' }],
        volumes: [{ name: 'n8n-data', mountPath: N8N_DATA_PATH, sizeGb: 5, holds: 'state' }],
        // /healthz answers once the HTTP server is up (docs.n8n.io: "Monitor n8n"); the image
        // (Alpine) has busybox wget.
        healthCheck: { http: { port: N8N_PORT, path: '/healthz' }, via: 'wget', startPeriodSeconds: 60 },
        resources: { cpus: 2, memoryGb: 2 },
        egress: [{ host: 'internet', why: 'workflows call the web services you build them for (HTTP Request and app nodes)' }],
        security: { nonRootUid: N8N_UID },
      }),
    );
    this.connect(postgres, { ordering: true });
  }
}

/** n8n at `n8n`, behind its own login, on its own Postgres database. */
export const n8n = defineService({
  name: 'n8n',
  image: 'n8nio/n8n:1.119.2',
  stack: 'automation',
  zone: 'edge',
  on: 'server',
  requires: ['postgres'],
  enabledByDefault: false,
  // Webhooks must reach n8n without a password at the edge; the editor asks for n8n's own login.
  routes: [{ host: N8N_HOST, port: N8N_PORT, auth: 'login', probePath: '/healthz', rank: 10 }],
  create: ({ stack, props, built }) => {
    const postgres = built<Postgres>('postgres');
    return postgres ? new N8n(stack, { ...props, postgres }) : undefined;
  },
});
