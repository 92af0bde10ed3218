import { Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import { catalogProps, type CatalogServiceProps } from './common.js';

/** node-exporter on every node: CPU, memory, disk of the host. */
export class NodeExporter extends Service {
  constructor(stack: Stack, props: CatalogServiceProps) {
    super(
      stack,
      'node-exporter',
      catalogProps('node-exporter', props, {
        description: 'Host metrics of its node (node-exporter)',
        perNode: true,
        command: ['--path.rootfs=/host'],
        ports: [{ port: 9100, name: 'metrics' }],
        volumes: [{ hostPath: '/', mountPath: '/host', readOnly: true }],
        healthCheck: { http: { port: 9100, path: '/' } },
        resources: { cpus: 0.25, memoryGb: 0.25 },
        metrics: { port: 9100 },
        security: { hostPid: true, nonRootUid: 65534 },
      }),
    );
  }
}
