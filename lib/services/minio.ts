import { Platform } from '../model/platform.js';
import { Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import { catalogProps, type CatalogServiceProps } from './common.js';

export const MINIO_API_PORT = 9000;
export const MINIO_CONSOLE_PORT = 9001;

/** MinIO: S3 storage for generated media. The console is routed by Caddy, never published. */
export class Minio extends Service {
  constructor(stack: Stack, props: CatalogServiceProps) {
    const platform = Platform.of(stack);
    super(
      stack,
      'minio',
      catalogProps('minio', props, {
        description: 'S3 object storage for generated media (MinIO)',
        command: ['server', '/data', '--console-address', `:${MINIO_CONSOLE_PORT}`],
        env: {
          MINIO_ROOT_USER: platform.secret('MINIO_USER', { generate: 'user', description: 'MinIO root user' }),
          MINIO_ROOT_PASSWORD: platform.secret('MINIO_PASSWORD', { generate: 'password', description: 'MinIO root password' }),
          MINIO_BROWSER_REDIRECT_URL: `https://${platform.fqdn('minio')}`,
          // Metrics only; the zone network decides who can reach them.
          MINIO_PROMETHEUS_AUTH_TYPE: 'public',
        },
        ports: [
          { port: MINIO_API_PORT, name: 's3', authentication: 'token' },
          { port: MINIO_CONSOLE_PORT, name: 'console', authentication: 'password' },
        ],
        volumes: [{ name: 'minio-data', mountPath: '/data', sizeGb: 200 }],
        healthCheck: { exec: ['mc', 'ready', 'local'] },
        resources: { cpus: 2, memoryGb: 2 },
        metrics: { port: MINIO_API_PORT, path: '/minio/v2/metrics/cluster' },
      }),
    );
  }
}
