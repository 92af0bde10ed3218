import { Platform } from '../model/platform.js';
import { Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import { defineService } from './descriptor.js';
import { catalogProps, type CatalogServiceProps } from './common.js';
import { UserApp } from './user-app.js';

export const MINIO_API_PORT = 9000;
export const MINIO_CONSOLE_PORT = 9001;
/** MinIO's liveness endpoint: 200 without credentials, on the S3 port. */
export const MINIO_HEALTH_PATH = '/minio/health/live';

export interface MinioProps extends CatalogServiceProps {
  /** Subdomain the S3 API is routed at (`minio.host`). */
  readonly apiHost: string;
  /** Subdomain the console is routed at. */
  readonly consoleHost: string;
  /** Extra route hosts whose pages may call the S3 API from a browser (`minio.cors`). @default none */
  readonly cors?: readonly string[];
}

/**
 * MinIO: S3 storage for generated media. The S3 API is routed at `https://<apiHost>.<domain>`, so
 * the presigned URLs handed to a browser point somewhere it can reach; the console at
 * `https://<consoleHost>.<domain>`. Neither port is published.
 */
export class Minio extends Service {
  readonly apiHost: string;
  private readonly extraCors: readonly string[];

  constructor(stack: Stack, props: MinioProps) {
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
          // The public URL of the S3 API (presigned and shared links) and of the console.
          MINIO_SERVER_URL: `https://${platform.fqdn(props.apiHost)}`,
          MINIO_BROWSER_REDIRECT_URL: `https://${platform.fqdn(props.consoleHost)}`,
          // Metrics only; the zone network decides who can reach them.
          MINIO_PROMETHEUS_AUTH_TYPE: 'public',
        },
        ports: [
          { port: MINIO_API_PORT, name: 's3', authentication: 'token' },
          { port: MINIO_CONSOLE_PORT, name: 'console', authentication: 'password' },
        ],
        volumes: [{ name: 'minio-data', mountPath: '/data', sizeGb: 200, holds: 'state' }],
        healthCheck: { exec: ['mc', 'ready', 'local'] },
        resources: { cpus: 2, memoryGb: 2 },
        metrics: { port: MINIO_API_PORT, path: '/minio/v2/metrics/cluster' },
      }),
    );
    this.apiHost = props.apiHost;
    this.extraCors = props.cors ?? [];
    // MinIO answers CORS (preflights included) itself; left unset it would allow every origin.
    this.addEnv('MINIO_API_CORS_ALLOW_ORIGIN', () => this.corsOrigins.map((h) => `https://${platform.fqdn(h)}`).join(','));
  }

  /**
   * Route hosts whose pages may call the S3 API: the console's, `minio.cors`, and for each routed
   * app that connects to MinIO (the API that presigns URLs) its own host and the hosts allowed to
   * call it (its route's `cors`: the SPA that uploads with those URLs). Built-ins that merely
   * watch MinIO (Uptime Kuma, the edge) hand no URLs to a browser.
   */
  get corsOrigins(): string[] {
    const platform = Platform.of(this);
    const hosts = new Set<string>(this.extraCors);
    const clients = new Set<Service>(platform.consumersOf(this).map((c) => c.from).filter((s) => s instanceof UserApp));
    for (const route of platform.routes) {
      if (route.service === this) {
        if (route.port === MINIO_CONSOLE_PORT) hosts.add(route.host);
        continue;
      }
      if (!route.service || !clients.has(route.service)) continue;
      hosts.add(route.host);
      route.cors.forEach((h) => hosts.add(h));
    }
    return [...hosts].sort();
  }
}

/** MinIO: the console at `minio`, the S3 API at `minio.host` (signed requests: the signature is its authentication). */
export const minio = defineService({
  name: 'minio',
  image: 'minio/minio:RELEASE.2025-09-07T16-13-09Z',
  stack: 'data',
  zone: 'services',
  on: 'server',
  routes: [
    { host: 'minio', port: MINIO_CONSOLE_PORT, auth: 'login', rank: 7 },
    { host: (config) => config.minio.host, port: MINIO_API_PORT, auth: 'token', probePath: MINIO_HEALTH_PATH, configPath: ['minio'], rank: 9 },
  ],
  create: ({ stack, props, config }) => new Minio(stack, { ...props, apiHost: config.minio.host, consoleHost: 'minio', cors: config.minio.cors }),
});
