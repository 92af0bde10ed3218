import { Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import { defineService } from './descriptor.js';
import { catalogProps, type CatalogServiceProps } from './common.js';

/** NVIDIA DCGM exporter on every GPU node: temperature, utilisation and memory of each GPU. */
export class GpuExporter extends Service {
  constructor(stack: Stack, props: CatalogServiceProps) {
    super(
      stack,
      'gpu-exporter',
      catalogProps('gpu-exporter', props, {
        description: 'GPU metrics of its node (NVIDIA DCGM exporter)',
        perNode: true,
        ports: [{ port: 9400, name: 'metrics' }],
        healthCheck: { tcp: { port: 9400 }, via: 'bash' },
        resources: { cpus: 0.25, memoryGb: 0.5 },
        metrics: { port: 9400 },
        security: { capAdd: ['SYS_ADMIN'] },
        gpuTelemetry: true,
      }),
    );
  }
}

/** On every deployed node with NVIDIA GPUs (none: not built); AMD nodes get amd-gpu-exporter. */
export const gpuExporter = defineService({
  name: 'gpu-exporter',
  image: 'nvcr.io/nvidia/k8s/dcgm-exporter:4.2.3-4.1.3-ubuntu22.04',
  stack: 'monitoring',
  zone: 'monitoring',
  on: 'gpu-nodes',
  requires: ['prometheus'],
  create: ({ stack, props }) => new GpuExporter(stack, props),
});
