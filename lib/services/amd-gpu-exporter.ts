import { Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import { defineService } from './descriptor.js';
import { catalogProps, type CatalogServiceProps } from './common.js';

/** Where AMD's exporter serves /metrics (docs/installation/docker.md: `-p 5000:5000`). */
export const AMD_GPU_EXPORTER_PORT = 5000;

/**
 * AMD Device Metrics Exporter on every node with AMD GPUs: temperature, utilisation, VRAM and
 * power of each GPU (metric names in docs/configuration/metricslist.md: gpu_gfx_activity,
 * gpu_used_vram / gpu_total_vram in MB, gpu_edge_temperature, gpu_junction_temperature,
 * gpu_power_usage). Run as its docs say, with /dev/kfd and /dev/dri passed in; the NVIDIA
 * nodes keep the DCGM exporter (gpu-exporter).
 */
export class AmdGpuExporter extends Service {
  constructor(stack: Stack, props: CatalogServiceProps) {
    super(
      stack,
      'amd-gpu-exporter',
      catalogProps('amd-gpu-exporter', props, {
        description: 'GPU metrics of its node (AMD Device Metrics Exporter)',
        perNode: true,
        ports: [{ port: AMD_GPU_EXPORTER_PORT, name: 'metrics' }],
        // The UBI image ships bash, no curl or wget.
        healthCheck: { tcp: { port: AMD_GPU_EXPORTER_PORT }, via: 'bash' },
        resources: { cpus: 0.25, memoryGb: 0.5 },
        metrics: { port: AMD_GPU_EXPORTER_PORT },
        // It reads every GPU of the node without taking one from the device plugin: on k3s only a
        // privileged container sees the host's /dev/kfd and /dev/dri (Compose also passes them in).
        security: { privileged: true },
        gpuTelemetry: true,
      }),
    );
  }
}

/** On every deployed node with AMD GPUs (none: not built). */
export const amdGpuExporter = defineService({
  name: 'amd-gpu-exporter',
  image: 'rocm/device-metrics-exporter:v1.4.0.1',
  stack: 'monitoring',
  zone: 'monitoring',
  on: 'gpu-nodes',
  gpuVendors: ['amd'],
  requires: ['prometheus'],
  create: ({ stack, props }) => new AmdGpuExporter(stack, props),
});
