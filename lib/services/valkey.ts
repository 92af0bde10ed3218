import { Platform } from '../model/platform.js';
import type { Secret } from '../model/secret.js';
import { Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import { EnvTemplate, type EnvValue, type Resolver } from '../model/values.js';
import { defineService } from './descriptor.js';
import { catalogProps, type CatalogServiceProps } from './common.js';

export const VALKEY_PORT = 6379;

/** The password every Valkey client presents (AUTH). */
export function valkeyPassword(platform: Platform): Secret {
  // Hex: SearxNG and apps take Valkey as a URL (redis://default:<password>@host), which only a URL-safe
  // alphabet survives unencoded.
  return platform.secret('VALKEY_PASSWORD', { generate: 'hex32', description: 'Valkey password (AUTH), URL-safe' });
}

/**
 * Valkey: cache and queue (Redis protocol), append-only with an LRU cap, and a password: it is
 * published on the node's address when a client on another node dials it.
 */
export class Valkey extends Service {
  readonly password: Secret;

  constructor(stack: Stack, props: CatalogServiceProps) {
    const password = valkeyPassword(Platform.of(stack));
    super(
      stack,
      'valkey',
      catalogProps('valkey', props, {
        description: 'Cache and queue (Valkey), password-protected',
        // The image's entrypoint drops to the valkey user only when it is handed `valkey-server`;
        // the shell is there to put the password on the command line from the environment.
        command: [
          'sh',
          '-c',
          'exec docker-entrypoint.sh valkey-server --appendonly yes --maxmemory 2gb --maxmemory-policy allkeys-lru --requirepass "$VALKEY_PASSWORD"',
        ],
        // valkey-cli (forked from redis-cli) authenticates with REDISCLI_AUTH.
        env: { VALKEY_PASSWORD: password, REDISCLI_AUTH: password },
        ports: [{ port: VALKEY_PORT, name: 'redis', http: false, authentication: 'password' }],
        volumes: [{ name: 'valkey-data', mountPath: '/data', sizeGb: 5, holds: 'state' }],
        // `ping` exits 0 even on a NOAUTH error: only PONG is healthy.
        healthCheck: { exec: ['sh', '-c', 'valkey-cli ping | grep -q PONG'], intervalSeconds: 10, timeoutSeconds: 5 },
        resources: { cpus: 1, memoryGb: 2.5 },
      }),
    );
    this.password = password;
  }

  /** An app gets `<PREFIX>_PASSWORD` and `<PREFIX>_URL` (`redis://default:<password>@host:port/0`). */
  override clientEnv(_client: Service, prefix: string): Readonly<Record<string, EnvValue>> {
    return {
      [`${prefix}_PASSWORD`]: this.password,
      [`${prefix}_URL`]: valkeyUrl(this),
    };
  }
}

/** `redis://default:<password>@host:port/0` as the client's target sees it; the password stays a reference. */
export function valkeyUrl(valkey: Valkey, scheme = 'redis'): EnvValue {
  const hostPort = (r: Resolver) => {
    const a = r.address(valkey, VALKEY_PORT);
    return `${a.host}:${a.port}/0`;
  };
  // The `default` user: an empty user name makes clients send `AUTH "" <password>`, which fails.
  return new EnvTemplate([`${scheme}://default:`, valkey.password, '@', hostPort]);
}

export const valkey = defineService({
  name: 'valkey',
  image: 'valkey/valkey:7.2.10-alpine',
  stack: 'data',
  zone: 'services',
  on: 'server',
  create: ({ stack, props }) => new Valkey(stack, props),
});
