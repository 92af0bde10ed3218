import { Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import { catalogProps, type CatalogServiceProps } from './common.js';

export const VIDEO_PORT = 8000;

/** Mochi 1: text-to-video on every GPU of its node. */
export class Mochi extends Service {
  constructor(stack: Stack, props: CatalogServiceProps) {
    super(
      stack,
      'mochi',
      catalogProps('mochi', props, {
        description: 'Video generation (Mochi 1)',
        command: ['python', 'server.py', '--host', '0.0.0.0', '--port', String(VIDEO_PORT)],
        env: { MODEL_DIR: '/models', OUTPUT_DIR: '/output' },
        ports: [{ port: VIDEO_PORT, name: 'http' }],
        volumes: [
          { name: 'mochi-models', mountPath: '/models', sizeGb: 100 },
          { name: 'mochi-output', mountPath: '/output', sizeGb: 50 },
        ],
        healthCheck: { tcp: { port: VIDEO_PORT }, via: 'python', startPeriodSeconds: 600 },
        resources: { cpus: 8, memoryGb: 64 },
        gpu: { count: 'all' },
      }),
    );
  }
}
