import { Platform } from '../model/platform.js';
import { Service, type VolumeSpec } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import {
  basicAuthSecretName,
  CADDY_METRICS_PORT,
  LOKI_GATEWAY_PORT,
  LOKI_PUSH_PASSWORD,
  LOKI_PUSH_PASSWORD_HASH,
  renderCaddyfile,
} from '../configs/caddyfile.js';
import type { Secret } from '../model/secret.js';
import type { EnvValue } from '../model/values.js';
import { defineService } from './descriptor.js';
import { catalogProps, type CatalogServiceProps } from './common.js';

export interface CaddyProps extends CatalogServiceProps {
  /**
   * Loki, when log shippers on other nodes must push to it: Caddy on Loki's node serves them an
   * authenticated push-only gateway, so Loki itself is never published. @default no gateway
   */
  readonly lokiGateway?: Service;
}

/**
 * Caddy: the only HTTP(S) entry. Sites come from the platform's routes, so it is built after
 * every routed service; its connections to them are declared by the stack that builds it.
 */
export class Caddy extends Service {
  /** The push gateway to Loki, when there is one: its port and the password its clients send. */
  readonly lokiGateway?: { readonly loki: Service; readonly port: number; readonly password: Secret };

  constructor(stack: Stack, props: CaddyProps) {
    const platform = Platform.of(stack);
    const env: Record<string, EnvValue> = {};
    const loki = props.lokiGateway && props.lokiGateway.nodes.every((n) => props.nodes.includes(n)) ? props.lokiGateway : undefined;
    const pushPassword = loki
      ? platform.secret(LOKI_PUSH_PASSWORD, { generate: 'password', description: 'password Alloy on the other nodes sends to push logs through Caddy to Loki' })
      : undefined;
    if (loki) {
      env[LOKI_PUSH_PASSWORD_HASH] = platform.secret(LOKI_PUSH_PASSWORD_HASH, {
        generate: 'bcrypt',
        hashOf: LOKI_PUSH_PASSWORD,
        description: `bcrypt hash of LOKI_PUSH_PASSWORD (hash that password: caddy hash-password --plaintext), checked by Caddy's Loki gateway`,
      });
    }
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
          ...(loki ? [{ port: LOKI_GATEWAY_PORT, name: 'loki-push', authentication: 'password' as const }] : []),
        ],
        volumes: [
          { name: 'caddy-data', mountPath: '/data', sizeGb: 1, holds: 'state' },
          { name: 'caddy-config', mountPath: '/config', sizeGb: 1, holds: 'cache' },
          ...staticSites,
        ],
        configFiles: [{ name: 'Caddyfile', mountPath: '/etc/caddy/Caddyfile', content: (r) => renderCaddyfile(platform, r, loki) }],
        healthCheck: { http: { port: 2019, path: '/config/' }, loopbackOnly: true },
        resources: { cpus: 1, memoryGb: 0.5 },
        metrics: { port: CADDY_METRICS_PORT },
        security: { capDrop: ['ALL'], capAdd: ['NET_BIND_SERVICE'] },
        composeDocs: { order: -1, render: (_platform, flavor) => (flavor === 'coolify' ? COOLIFY_PROXY_DOCS : []) },
        egress: platform.tls === 'acme' ? [{ host: 'acme-v02.api.letsencrypt.org', why: 'ACME certificates' }] : [],
      }),
    );
    if (loki && pushPassword) {
      this.lokiGateway = { loki, port: LOKI_GATEWAY_PORT, password: pushPassword };
      this.connect(loki);
    }
  }
}

/**
 * Caddy: built after every routed service; connects to each route's service. Log shippers on
 * nodes without Loki push through its authenticated gateway, never to a published Loki.
 */
export const caddy = defineService({
  name: 'caddy',
  image: 'caddy:2.10.0-alpine',
  stack: 'edge',
  zone: 'edge',
  on: 'server',
  edge: true,
  create: ({ stack, props, platform, built, isEnabled }) => {
    const loki = built('loki');
    const shipsFromElsewhere = loki !== undefined && isEnabled('alloy') && platform.deployedNodes.some((n) => !loki.nodes.includes(n));
    const service = new Caddy(stack, { ...props, lokiGateway: shipsFromElsewhere ? loki : undefined });
    for (const route of platform.routes) {
      if (route.service && route.port !== undefined) service.connect(route.service, { port: route.port });
    }
    return service;
  },
});

/** Before Caddy can take 80 and 443 on a Coolify server, Coolify's own proxy has to let go of them. */
const COOLIFY_PROXY_DOCS = [
  '## Coolify proxy',
  '',
  "Caddy publishes 80 and 443 itself: set this server's proxy to **None** in Coolify (Servers > Proxy),",
  'or Coolify\'s Traefik keeps the ports and Caddy cannot start.',
  '',
];
