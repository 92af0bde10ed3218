import { HOST_NETWORK_ADDRESS_ENV, Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import { defineService } from './descriptor.js';
import { catalogProps, type CatalogServiceProps } from './common.js';

export const NODE_EXPORTER_PORT = 9100;
/**
 * On the host: the folder node-exporter's textfile collector reads `*.prom` files from (through
 * the host's root at /host). The backup jobs leave their metrics there.
 */
export const TEXTFILE_HOST_DIR = '/var/lib/platform/metrics';
/** Where the host's root filesystem is mounted, and what `--path.rootfs` says. */
export const NODE_EXPORTER_ROOTFS = '/host';

/**
 * node-exporter on every node: CPU, memory, disk and network of the host. Run the way its README
 * says (prometheus/node_exporter v1.9.1 README.md lines 42-48 and 55-68): host network and PID
 * namespaces, the host's root read-only at /host with rslave propagation, `--path.rootfs=/host`.
 * On a bridge network it would report the container's interfaces, not the host's.
 *
 * On the host network it listens on the node's address only (NODE_ADDRESS), not on every
 * interface of the host: the image's busybox shell (FROM quay.io/prometheus/busybox, Dockerfile
 * line 3) expands it into `--web.listen-address`.
 */
export class NodeExporter extends Service {
  constructor(stack: Stack, props: CatalogServiceProps) {
    const listen = `"\${${HOST_NETWORK_ADDRESS_ENV}}:${NODE_EXPORTER_PORT}"`;
    super(
      stack,
      'node-exporter',
      catalogProps('node-exporter', props, {
        description: 'Host metrics of its node (node-exporter)',
        perNode: true,
        entrypoint: ['/bin/sh', '-c'],
        // The textfile collector reads the metrics the backup jobs leave on the host (TEXTFILE_HOST_DIR).
        command: [`exec /bin/node_exporter --path.rootfs=${NODE_EXPORTER_ROOTFS} --web.listen-address=${listen} --collector.textfile.directory=${NODE_EXPORTER_ROOTFS}${TEXTFILE_HOST_DIR}`],
        ports: [{ port: NODE_EXPORTER_PORT, name: 'metrics' }],
        volumes: [{ hostPath: '/', mountPath: NODE_EXPORTER_ROOTFS, readOnly: true, propagation: 'rslave' }],
        healthCheck: { exec: ['sh', '-c', `wget -q -O /dev/null "http://\${${HOST_NETWORK_ADDRESS_ENV}}:${NODE_EXPORTER_PORT}/"`] },
        resources: { cpus: 0.25, memoryGb: 0.25 },
        metrics: { port: NODE_EXPORTER_PORT },
        security: { hostPid: true, hostNetwork: true, nonRootUid: 65534 },
      }),
    );
  }
}

export const nodeExporter = defineService({
  name: 'node-exporter',
  image: 'prom/node-exporter:v1.9.1',
  stack: 'monitoring',
  zone: 'monitoring',
  on: 'every-node',
  requires: ['prometheus'],
  create: ({ stack, props }) => new NodeExporter(stack, props),
});
