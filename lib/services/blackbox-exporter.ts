import type { Prometheus } from './prometheus.js';
import { Platform } from '../model/platform.js';
import { Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import { renderBlackboxConfig } from '../configs/prometheus.js';
import { defineService } from './descriptor.js';
import { catalogProps, type CatalogServiceProps } from './common.js';

export const BLACKBOX_PORT = 9115;

/** Blackbox exporter: probes every routed site over HTTPS, for the "endpoint unreachable" alert. */
export class BlackboxExporter extends Service {
  constructor(stack: Stack, props: CatalogServiceProps) {
    const platform = Platform.of(stack);
    super(
      stack,
      'blackbox-exporter',
      catalogProps('blackbox-exporter', props, {
        description: 'Probes every routed site (blackbox exporter)',
        command: ['--config.file=/etc/blackbox/blackbox.yml'],
        ports: [{ port: BLACKBOX_PORT, name: 'http' }],
        configFiles: [{ name: 'blackbox.yml', mountPath: '/etc/blackbox/blackbox.yml', content: () => renderBlackboxConfig(platform) }],
        healthCheck: { http: { port: BLACKBOX_PORT, path: '/-/healthy' } },
        resources: { cpus: 0.25, memoryGb: 0.25 },
        security: { nonRootUid: 65534 },
        // Probes the sites the way a browser does: through the edge, from outside the zone.
        egress: platform.routes.map((r) => ({ host: platform.fqdn(r.host), why: 'HTTPS probe' })),
      }),
    );
  }
}

/** Probes the sites from inside for Prometheus: only with an edge to probe. */
export const blackboxExporter = defineService({
  name: 'blackbox-exporter',
  image: 'prom/blackbox-exporter:v0.27.0',
  stack: 'monitoring',
  zone: 'monitoring',
  on: 'server',
  requires: ['prometheus'],
  uses: ['caddy'],
  edge: true,
  adminWithoutLogin: true,
  create: ({ stack, props, built }) => {
    const prometheus = built<Prometheus>('prometheus');
    if (!prometheus || !built('caddy')) return undefined;
    const service = new BlackboxExporter(stack, props);
    prometheus.probeWith(service);
    return service;
  },
});
