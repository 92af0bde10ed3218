import { Platform } from '../model/platform.js';
import { Service } from '../model/service.js';
import { renderLokiConfig } from '../configs/loki.js';
import type { Stack } from '../model/stack.js';
import { defineService } from './descriptor.js';
import { catalogProps, type CatalogServiceProps } from './common.js';

export const LOKI_PORT = 3100;

/** Loki: log storage, fed by Alloy on every node; keeps `monitoring.retentionDays` of logs, reports nothing home. */
export class Loki extends Service {
  constructor(stack: Stack, props: CatalogServiceProps) {
    const platform = Platform.of(stack);
    super(
      stack,
      'loki',
      catalogProps('loki', props, {
        description: `Log storage (Loki, ${platform.config.monitoring.retentionDays} d retention)`,
        command: ['-config.file=/etc/loki/config.yaml'],
        configFiles: [{ name: 'config.yaml', mountPath: '/etc/loki/config.yaml', content: () => renderLokiConfig(platform) }],
        ports: [{ port: LOKI_PORT, name: 'http' }],
        volumes: [{ name: 'loki-data', mountPath: '/loki', sizeGb: 20, holds: 'state' }],
        // Loki 3.6 images dropped busybox; the pinned 3.5 still has wget.
        healthCheck: { http: { port: LOKI_PORT, path: '/ready' }, startPeriodSeconds: 60 },
        resources: { cpus: 1, memoryGb: 2 },
        security: { nonRootUid: 10001 },
        metrics: { port: LOKI_PORT },
      }),
    );
  }
}

export const loki = defineService({
  name: 'loki',
  image: 'grafana/loki:3.5.3',
  stack: 'monitoring',
  zone: 'monitoring',
  on: 'server',
  create: ({ stack, props }) => new Loki(stack, props),
});
