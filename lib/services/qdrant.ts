import { Platform } from '../model/platform.js';
import type { Secret } from '../model/secret.js';
import { Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import { defineService } from './descriptor.js';
import { catalogProps, type CatalogServiceProps } from './common.js';

/** Qdrant's REST API (its gRPC port, 6334, is not used: Open WebUI speaks REST unless QDRANT_PREFER_GRPC). */
export const QDRANT_PORT = 6333;

/** The API key every Qdrant client sends (`api-key` header); Qdrant reads it from QDRANT__SERVICE__API_KEY. */
export function qdrantApiKey(platform: Platform): Secret {
  return platform.secret('QDRANT_API_KEY', { generate: 'hex32', description: 'Qdrant API key, sent by its clients (Open WebUI)' });
}

/**
 * Qdrant: a vector database, off by default (`services.qdrant.enabled: true`). With an API key
 * set, every REST endpoint but the health checks (`/healthz`, `/livez`, `/readyz`, open since
 * Qdrant 1.7.0, qdrant/qdrant#2855) asks for it, `/metrics` included (qdrant/qdrant#1980): so
 * Prometheus, which sends no per-target credentials here, does not scrape it. Its telemetry to
 * telemetry.qdrant.io is off.
 */
export class Qdrant extends Service {
  constructor(stack: Stack, props: CatalogServiceProps) {
    const platform = Platform.of(stack);
    super(
      stack,
      'qdrant',
      catalogProps('qdrant', props, {
        description: 'Vector database (Qdrant)',
        env: {
          QDRANT__SERVICE__API_KEY: qdrantApiKey(platform),
          QDRANT__TELEMETRY_DISABLED: 'true',
        },
        ports: [{ port: QDRANT_PORT, name: 'http', authentication: 'token' }],
        volumes: [{ name: 'qdrant-storage', mountPath: '/qdrant/storage', sizeGb: 20, holds: 'state' }],
        // The image (Debian slim) has bash but no curl or wget: a TCP check on Compose, /readyz on k3s.
        healthCheck: { http: { port: QDRANT_PORT, path: '/readyz' }, via: 'bash' },
        resources: { cpus: 2, memoryGb: 4 },
      }),
    );
  }
}

/** Qdrant: in the data stack, on the server; Open WebUI stores its document vectors here when it is on. */
export const qdrant = defineService({
  name: 'qdrant',
  image: 'qdrant/qdrant:v1.15.1',
  stack: 'data',
  zone: 'services',
  on: 'server',
  enabledByDefault: false,
  create: ({ stack, props }) => new Qdrant(stack, props),
});
