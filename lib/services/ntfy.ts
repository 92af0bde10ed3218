import { Platform } from '../model/platform.js';
import { Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import { catalogProps, type CatalogServiceProps } from './common.js';

export const NTFY_PORT = 80;

/** ntfy: self-hosted push notifications (no upstream relay: nothing leaves the homelab). */
export class Ntfy extends Service {
  constructor(stack: Stack, props: CatalogServiceProps) {
    const platform = Platform.of(stack);
    super(
      stack,
      'ntfy',
      catalogProps('ntfy', props, {
        description: 'Push notifications (ntfy)',
        command: ['serve'],
        env: {
          NTFY_BASE_URL: `https://${platform.fqdn('ntfy')}`,
          NTFY_CACHE_FILE: '/var/cache/ntfy/cache.db',
          NTFY_BEHIND_PROXY: 'true',
          NTFY_ENABLE_METRICS: 'true',
        },
        ports: [{ port: NTFY_PORT, name: 'http' }],
        volumes: [{ name: 'ntfy-cache', mountPath: '/var/cache/ntfy', sizeGb: 1 }],
        healthCheck: { http: { port: NTFY_PORT, path: '/v1/health' } },
        resources: { cpus: 0.25, memoryGb: 0.25 },
        metrics: { port: NTFY_PORT },
      }),
    );
  }
}
