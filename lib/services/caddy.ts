import { Platform } from '../model/platform.js';
import { Service, type VolumeSpec } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import { basicAuthSecretName, CADDY_METRICS_PORT, renderCaddyfile } from '../configs/caddyfile.js';
import type { EnvValue } from '../model/values.js';
import { catalogProps, type CatalogServiceProps } from './common.js';

/**
 * Caddy: the only HTTP(S) entry. Sites come from the platform's routes, so it is built after
 * every routed service; its connections to them are declared by the stack that builds it.
 */
export class Caddy extends Service {
  constructor(stack: Stack, props: CatalogServiceProps) {
    const platform = Platform.of(stack);
    const env: Record<string, EnvValue> = {};
    for (const route of platform.routes.filter((r) => r.auth)) {
      const name = basicAuthSecretName(route.host);
      env[name] = platform.secret(name, { generate: 'bcrypt', description: `basic-auth hash for ${platform.fqdn(route.host)}` });
    }
    const staticSites: VolumeSpec[] = platform.routes
      .filter((r) => r.staticRoot !== undefined)
      .map((r) => ({ hostPath: r.staticRoot as string, mountPath: `/srv/${r.host}`, readOnly: true }));
    super(
      stack,
      'caddy',
      catalogProps('caddy', props, {
        description: 'Reverse proxy and TLS for every site; the only HTTP(S) entry point',
        env,
        ports: [
          { port: 80, name: 'http', entry: true },
          { port: 443, name: 'https', entry: true },
          { port: 443, protocol: 'udp', name: 'http3', entry: true, http: false },
          { port: CADDY_METRICS_PORT, name: 'metrics' },
        ],
        volumes: [
          { name: 'caddy-data', mountPath: '/data', sizeGb: 1 },
          { name: 'caddy-config', mountPath: '/config', sizeGb: 1 },
          ...staticSites,
        ],
        configFiles: [{ name: 'Caddyfile', mountPath: '/etc/caddy/Caddyfile', content: (r) => renderCaddyfile(platform, r) }],
        healthCheck: { http: { port: 2019, path: '/config/' }, loopbackOnly: true },
        resources: { cpus: 1, memoryGb: 0.5 },
        metrics: { port: CADDY_METRICS_PORT },
        security: { capDrop: ['ALL'], capAdd: ['NET_BIND_SERVICE'] },
        egress: platform.tls === 'acme' ? [{ host: 'acme-v02.api.letsencrypt.org', why: 'ACME certificates' }] : [],
      }),
    );
  }
}
