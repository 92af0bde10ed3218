import { Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import { defineService } from './descriptor.js';
import { catalogProps, type CatalogServiceProps } from './common.js';
import { compareText } from '../output/order.js';

export const UPTIME_KUMA_PORT = 3001;

/** Uptime Kuma: status page and HTTP checks (status.<domain>); monitors are added in its UI. */
export class UptimeKuma extends Service {
  constructor(stack: Stack, props: CatalogServiceProps) {
    super(
      stack,
      'uptime-kuma',
      catalogProps('uptime-kuma', props, {
        description: 'Status page and endpoint checks (Uptime Kuma)',
        ports: [{ port: UPTIME_KUMA_PORT, name: 'http', authentication: 'password' }],
        volumes: [{ name: 'uptime-kuma-data', mountPath: '/app/data', sizeGb: 1, holds: 'state' }],
        // The image ships this checker for its own HEALTHCHECK.
        healthCheck: { exec: ['extra/healthcheck'], http: { port: UPTIME_KUMA_PORT, path: '/' }, startPeriodSeconds: 60 },
        resources: { cpus: 0.5, memoryGb: 0.5 },
        // Monitors live in its own database, so the owner adds them once, by hand.
        composeDocs: {
          order: 3,
          render: (platform) => [
            '## Uptime Kuma monitors',
            '',
            'Uptime Kuma keeps its monitors in its own database; add these once:',
            '',
            ...[...platform.routes].sort((a, b) => compareText(a.host, b.host)).map((route) => `- HTTP(s): https://${platform.fqdn(route.host)}${route.probePath ?? ''}`),
            '',
          ],
        },
        // On by default and only switchable in its UI (Settings > About: "Show update if available").
        egress: [{ host: 'uptime.kuma.pet', why: 'update check (turn it off in Settings > About)' }],
      }),
    );
  }
}

/** Uptime Kuma at `status`: watches the edge and each routed service from inside, to tell "down" from "unreachable". */
export const uptimeKuma = defineService({
  name: 'uptime-kuma',
  image: 'louislam/uptime-kuma:1.23.16',
  stack: 'monitoring',
  zone: 'monitoring',
  on: 'server',
  routes: [{ host: 'status', port: UPTIME_KUMA_PORT, auth: 'login', rank: 4 }],
  create: ({ stack, props }) => new UptimeKuma(stack, props),
  finish: ({ platform, built }, service) => {
    const caddy = built('caddy');
    if (caddy) service.connect(caddy, { port: 443 });
    for (const route of platform.routes) {
      if (route.service && route.port !== undefined && route.service !== service) service.connect(route.service, { port: route.port });
    }
  },
});
