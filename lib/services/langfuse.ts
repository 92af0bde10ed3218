import { Platform } from '../model/platform.js';
import type { Secret } from '../model/secret.js';
import { Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import { defineService } from './descriptor.js';
import { catalogProps, type CatalogServiceProps } from './common.js';
import { POSTGRES_PORT, type Postgres } from './postgres.js';

/** Langfuse's web server: UI, public API and trace ingestion (PORT in its Dockerfile). */
export const LANGFUSE_PORT = 3000;

/** The image's `nextjs` user (uid 1001, group nodejs 1001): web/Dockerfile ends with `USER nextjs`. */
export const LANGFUSE_UID = 1001;

/** The site Langfuse is served at: `langfuse.<domain>`. */
export const LANGFUSE_HOST = 'langfuse';

/** Answers 200 while the server is up (web/src/pages/api/public/health.ts). */
export const LANGFUSE_HEALTH_PATH = '/api/public/health';

/** The organisation and project created at first start, which LiteLLM's traces go into. */
export const LANGFUSE_ORG_ID = 'homelab';
export const LANGFUSE_PROJECT_ID = 'litellm';

/**
 * The project's key pair, created by Langfuse at start (LANGFUSE_INIT_PROJECT_PUBLIC_KEY / _SECRET_KEY)
 * and sent by LiteLLM, which reads LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY.
 */
export function langfuseKeys(platform: Platform): { publicKey: Secret; secretKey: Secret } {
  return {
    publicKey: platform.secret('LANGFUSE_PUBLIC_KEY', { generate: 'password', prefix: 'pk-lf-', description: 'Langfuse project public key (LiteLLM sends its traces with it)' }),
    // web/src/initialize.ts keeps the stored pair of an existing public key: a new secret key
    // alone would never reach Langfuse's database and LiteLLM would be refused.
    secretKey: platform.secret('LANGFUSE_SECRET_KEY', {
      generate: 'password',
      prefix: 'sk-lf-',
      readOnce: true,
      description: 'Langfuse project secret key, stored by Langfuse at its first start with the public key',
    }),
  };
}

export interface LangfuseProps extends CatalogServiceProps {
  /** Its database: traces, projects, users. */
  readonly postgres: Postgres;
}

/**
 * Langfuse v2: LLM tracing, off by default (`services.langfuse.enabled: true`). One container on
 * Postgres alone; v3 adds a worker, ClickHouse, Redis and S3, more than a homelab's trace volume
 * needs. Read at v2.95.12 (langfuse/langfuse):
 *
 * - web/entrypoint.sh builds DATABASE_URL from DATABASE_HOST (`host:port`), DATABASE_USERNAME,
 *   DATABASE_PASSWORD and DATABASE_NAME when DATABASE_URL is unset, pasting the password into the
 *   URL as is: the generated password is hex; one made by hand must be URL-safe too.
 * - web/src/initialize.ts creates the organisation, project, key pair and owner account from
 *   LANGFUSE_INIT_* at every start when they are missing, and never changes existing ones: the
 *   owner's password and the secret key are read once.
 * - TELEMETRY_ENABLED=false stops the hourly usage report to PostHog (features/telemetry);
 *   AUTH_DISABLE_SIGNUP=true refuses new accounts (the owner invites users instead).
 * - ENCRYPTION_KEY must be 64 hex characters (env.mjs) and encrypts stored LLM credentials; SALT
 *   hashes the API keys, so a new SALT invalidates every key: both are read once. A new
 *   NEXTAUTH_SECRET only signs everyone out, so it may rotate.
 */
export class Langfuse extends Service {
  constructor(stack: Stack, props: LangfuseProps) {
    const platform = Platform.of(stack);
    const postgres = props.postgres;
    const db = postgres.database('langfuse', { configPath: ['services', 'langfuse'] });
    const keys = langfuseKeys(platform);
    super(
      stack,
      'langfuse',
      catalogProps('langfuse', props, {
        description: 'LLM traces (Langfuse v2) on Postgres',
        env: {
          DATABASE_HOST: (r) => {
            const a = r.address(postgres, POSTGRES_PORT);
            return `${a.host}:${a.port}`;
          },
          DATABASE_USERNAME: db.role,
          DATABASE_PASSWORD: db.password,
          DATABASE_NAME: db.name,
          // No ClickHouse in v2: its migration step is skipped rather than probed.
          LANGFUSE_AUTO_CLICKHOUSE_MIGRATION_DISABLED: 'true',
          NEXTAUTH_URL: `https://${platform.fqdn(LANGFUSE_HOST)}`,
          NEXTAUTH_SECRET: platform.secret('LANGFUSE_NEXTAUTH_SECRET', { generate: 'password64', description: 'Langfuse session signing key' }),
          SALT: platform.secret('LANGFUSE_SALT', { generate: 'password64', readOnce: true, description: 'Langfuse API key salt (a new one invalidates every key)' }),
          ENCRYPTION_KEY: platform.secret('LANGFUSE_ENCRYPTION_KEY', {
            generate: 'hex64',
            readOnce: true,
            description: 'Langfuse encryption key for stored LLM credentials (64 hex characters)',
          }),
          // Next.js listens on HOSTNAME: the container's own name would leave 127.0.0.1 (the health check) out.
          HOSTNAME: '0.0.0.0',
          PORT: String(LANGFUSE_PORT),
          LANGFUSE_INIT_ORG_ID: LANGFUSE_ORG_ID,
          LANGFUSE_INIT_ORG_NAME: 'Homelab',
          LANGFUSE_INIT_PROJECT_ID: LANGFUSE_PROJECT_ID,
          LANGFUSE_INIT_PROJECT_NAME: 'LiteLLM',
          LANGFUSE_INIT_PROJECT_PUBLIC_KEY: keys.publicKey,
          LANGFUSE_INIT_PROJECT_SECRET_KEY: keys.secretKey,
          LANGFUSE_INIT_USER_EMAIL: platform.config.acmeEmail,
          LANGFUSE_INIT_USER_NAME: platform.config.basicAuthUser,
          LANGFUSE_INIT_USER_PASSWORD: platform.secret('LANGFUSE_ADMIN_PASSWORD', {
            generate: 'password',
            readOnce: true,
            description: `password of the Langfuse owner (${platform.config.acmeEmail}), created at first start`,
          }),
          AUTH_DISABLE_SIGNUP: 'true',
          // The user's rule: no telemetry leaves the homelab.
          TELEMETRY_ENABLED: 'false',
        },
        ports: [{ port: LANGFUSE_PORT, name: 'http', authentication: 'password' }],
        // Everything lives in Postgres: no volume. The image (Alpine) has busybox wget.
        healthCheck: { http: { port: LANGFUSE_PORT, path: LANGFUSE_HEALTH_PATH }, via: 'wget', startPeriodSeconds: 90 },
        resources: { cpus: 2, memoryGb: 2 },
        security: { nonRootUid: LANGFUSE_UID },
      }),
    );
    this.connect(postgres, { ordering: true });
  }
}

/** Langfuse at `langfuse`, behind its own login; LiteLLM sends its traces here when it is on. */
export const langfuse = defineService({
  name: 'langfuse',
  image: 'langfuse/langfuse:2.95.12',
  stack: 'llm',
  zone: 'edge',
  on: 'server',
  requires: ['postgres'],
  enabledByDefault: false,
  routes: [{ host: LANGFUSE_HOST, port: LANGFUSE_PORT, auth: 'login', probePath: LANGFUSE_HEALTH_PATH, rank: 11 }],
  create: ({ stack, props, built }) => {
    const postgres = built<Postgres>('postgres');
    return postgres ? new Langfuse(stack, { ...props, postgres }) : undefined;
  },
});
