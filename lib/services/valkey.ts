import { Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import { catalogProps, type CatalogServiceProps } from './common.js';

export const VALKEY_PORT = 6379;

/** Valkey: cache and queue (Redis protocol), append-only with an LRU cap. */
export class Valkey extends Service {
  constructor(stack: Stack, props: CatalogServiceProps) {
    super(
      stack,
      'valkey',
      catalogProps('valkey', props, {
        description: 'Cache and queue (Valkey)',
        command: ['valkey-server', '--appendonly', 'yes', '--maxmemory', '2gb', '--maxmemory-policy', 'allkeys-lru'],
        ports: [{ port: VALKEY_PORT, name: 'redis', http: false }],
        volumes: [{ name: 'valkey-data', mountPath: '/data', sizeGb: 5 }],
        healthCheck: { exec: ['valkey-cli', 'ping'], intervalSeconds: 10, timeoutSeconds: 5 },
        resources: { cpus: 1, memoryGb: 2.5 },
      }),
    );
  }
}
