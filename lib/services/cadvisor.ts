import { Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import { defineService } from './descriptor.js';
import { catalogProps, type CatalogServiceProps } from './common.js';

/** cAdvisor on every node: per-container metrics (and "container down" alerts). */
export class Cadvisor extends Service {
  constructor(stack: Stack, props: CatalogServiceProps) {
    super(
      stack,
      'cadvisor',
      catalogProps('cadvisor', props, {
        description: 'Container metrics of its node (cAdvisor)',
        perNode: true,
        command: ['--docker_only=true', '--housekeeping_interval=30s'],
        ports: [{ port: 8080, name: 'metrics' }],
        volumes: [
          { hostPath: '/', mountPath: '/rootfs', readOnly: true },
          { hostPath: '/var/run', mountPath: '/var/run', readOnly: true },
          { hostPath: '/sys', mountPath: '/sys', readOnly: true },
        ],
        onTarget: {
          compose: {
            volumes: [
              { hostPath: '/var/lib/docker', mountPath: '/var/lib/docker', readOnly: true },
              { hostPath: '/dev/disk', mountPath: '/dev/disk', readOnly: true },
            ],
          },
          // k3s runs containers in its own containerd, not Docker.
          k3s: {
            command: ['--docker_only=false', '--containerd=/var/run/k3s/containerd/containerd.sock', '--housekeeping_interval=30s'],
            volumes: [{ hostPath: '/dev/disk', mountPath: '/dev/disk', readOnly: true }],
          },
        },
        healthCheck: { http: { port: 8080, path: '/healthz' } },
        resources: { cpus: 0.5, memoryGb: 0.5 },
        metrics: { port: 8080 },
        // cAdvisor reads cgroups and devices of every container.
        security: { privileged: true },
      }),
    );
  }
}

export const cadvisor = defineService({
  name: 'cadvisor',
  image: 'gcr.io/cadvisor/cadvisor:v0.52.1',
  stack: 'monitoring',
  zone: 'monitoring',
  on: 'every-node',
  requires: ['prometheus'],
  adminWithoutLogin: true,
  create: ({ stack, props }) => new Cadvisor(stack, props),
});
