import { Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import { catalogProps, type CatalogServiceProps } from './common.js';

/** Uptime Kuma: status page and HTTP checks (status.<domain>); monitors are added in its UI. */
export class UptimeKuma extends Service {
  constructor(stack: Stack, props: CatalogServiceProps) {
    super(
      stack,
      'uptime-kuma',
      catalogProps('uptime-kuma', props, {
        description: 'Status page and endpoint checks (Uptime Kuma)',
        ports: [{ port: 3001, name: 'http', authentication: 'password' }],
        volumes: [{ name: 'uptime-kuma-data', mountPath: '/app/data', sizeGb: 1 }],
        // The image ships this checker for its own HEALTHCHECK.
        healthCheck: { exec: ['extra/healthcheck'], http: { port: 3001, path: '/' }, startPeriodSeconds: 60 },
        resources: { cpus: 0.5, memoryGb: 0.5 },
        // On by default and only switchable in its UI (Settings > About: "Show update if available").
        egress: [{ host: 'uptime.kuma.pet', why: 'update check (turn it off in Settings > About)' }],
      }),
    );
  }
}
