import { Platform } from '../model/platform.js';
import type { Secret } from '../model/secret.js';
import { Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import { interpolate } from '../model/values.js';
import { defineService } from './descriptor.js';
import { catalogProps, type CatalogServiceProps } from './common.js';

export const NTFY_PORT = 80;
/** Prometheus metrics on their own listener, so the routed site does not serve them. */
export const NTFY_METRICS_PORT = 9095;
/** The ntfy user Alertmanager publishes as: write-only on the alert topic. */
export const NTFY_PUBLISHER = 'alertmanager';

/**
 * ntfy: self-hosted push notifications (no upstream relay: nothing leaves the homelab). Private:
 * anonymous clients can neither read nor publish (`deny-all`); the owner logs in with the
 * basic-auth user and a password of their own (admin, reads every topic: the phone app), and
 * Alertmanager publishes to the alert topic with an access token. Users, access and tokens are
 * declared from secrets (ntfy 2.14's `auth-users`, `auth-access`, `auth-tokens`), re-applied on
 * every start, so nothing is clicked together by hand.
 */
export class Ntfy extends Service {
  /** The token Alertmanager sends as `Authorization: Bearer`. */
  readonly publisherToken: Secret;

  constructor(stack: Stack, props: CatalogServiceProps) {
    const platform = Platform.of(stack);
    const owner = platform.config.basicAuthUser;
    const topic = platform.config.monitoring.ntfyTopic;
    const ownerHash = platform.secret('NTFY_ADMIN_PASSWORD_HASH', {
      generate: 'bcrypt',
      description: `bcrypt hash (base64) of the password ${owner} logs in to ntfy with (phone and web app)`,
    });
    const publisherHash = platform.secret('NTFY_ALERTMANAGER_PASSWORD_HASH', {
      generate: 'bcrypt',
      description: `bcrypt hash (base64) of any random password: the ${NTFY_PUBLISHER} ntfy user only ever uses its token`,
    });
    const token = platform.secret('NTFY_ALERTMANAGER_TOKEN', {
      generate: 'ntfyToken',
      description: `ntfy access token of ${NTFY_PUBLISHER}`,
    });
    super(
      stack,
      'ntfy',
      catalogProps('ntfy', props, {
        description: 'Push notifications (ntfy), private: login or token required',
        // The hashes arrive base64-encoded (a bcrypt hash is full of `$`, which Compose and Coolify
        // would expand); ntfy wants the hash itself, so the entrypoint decodes them into
        // NTFY_AUTH_USERS in the environment (never onto a command line). Backquotes, not `$(...)`:
        // Kubernetes reads `$(NAME)` in a container's command as a variable reference.
        entrypoint: [
          '/bin/sh',
          '-c',
          `NTFY_AUTH_USERS="${owner}:\`printf %s "$NTFY_ADMIN_PASSWORD_HASH" | base64 -d\`:admin,${NTFY_PUBLISHER}:\`printf %s "$NTFY_ALERTMANAGER_PASSWORD_HASH" | base64 -d\`:user" && export NTFY_AUTH_USERS && exec ntfy "$@"`,
          'ntfy',
        ],
        command: ['serve'],
        env: {
          NTFY_ADMIN_PASSWORD_HASH: ownerHash,
          NTFY_ALERTMANAGER_PASSWORD_HASH: publisherHash,
          NTFY_BASE_URL: `https://${platform.fqdn('ntfy')}`,
          NTFY_CACHE_FILE: '/var/cache/ntfy/cache.db',
          NTFY_AUTH_FILE: '/var/cache/ntfy/auth.db',
          NTFY_AUTH_DEFAULT_ACCESS: 'deny-all',
          NTFY_AUTH_ACCESS: `${NTFY_PUBLISHER}:${topic}:wo`,
          NTFY_AUTH_TOKENS: interpolate`${NTFY_PUBLISHER}:${token}:Alertmanager`,
          NTFY_ENABLE_LOGIN: 'true',
          NTFY_ENABLE_SIGNUP: 'false',
          NTFY_BEHIND_PROXY: 'true',
          NTFY_ENABLE_METRICS: 'true',
          NTFY_METRICS_LISTEN_HTTP: `:${NTFY_METRICS_PORT}`,
        },
        ports: [
          { port: NTFY_PORT, name: 'http', authentication: 'password' },
          { port: NTFY_METRICS_PORT, name: 'metrics' },
        ],
        volumes: [{ name: 'ntfy-cache', mountPath: '/var/cache/ntfy', sizeGb: 1, holds: 'cache' }],
        healthCheck: { http: { port: NTFY_PORT, path: '/v1/health' } },
        resources: { cpus: 0.25, memoryGb: 0.25 },
        metrics: { port: NTFY_METRICS_PORT },
      }),
    );
    this.publisherToken = token;
  }
}

/** ntfy at `ntfy`, behind its own accounts. */
export const ntfy = defineService({
  name: 'ntfy',
  // v2.14.0 is the first release that declares users, access and tokens in the config (auth-users, auth-access, auth-tokens).
  image: 'binwiederhier/ntfy:v2.14.0',
  stack: 'monitoring',
  zone: 'monitoring',
  on: 'server',
  routes: [{ host: 'ntfy', port: NTFY_PORT, auth: 'login', rank: 6 }],
  create: ({ stack, props }) => new Ntfy(stack, props),
});
