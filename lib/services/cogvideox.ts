import { Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import { catalogProps, type CatalogServiceProps } from './common.js';
import { VIDEO_PORT } from './mochi.js';

/** The compose profile that starts the backup video model only on demand. */
export const BACKUP_PROFILE = 'backup';

/** CogVideoX-5b: the backup video model, started on demand only. */
export class CogVideoX extends Service {
  constructor(stack: Stack, props: CatalogServiceProps) {
    super(
      stack,
      'cogvideox',
      catalogProps('cogvideox', props, {
        description: 'Video generation, backup (CogVideoX-5b); started on demand',
        command: ['python', 'server.py', '--host', '0.0.0.0', '--port', String(VIDEO_PORT)],
        env: { MODEL_DIR: '/models', OUTPUT_DIR: '/output' },
        ports: [{ port: VIDEO_PORT, name: 'http' }],
        volumes: [
          { name: 'cogvideox-models', mountPath: '/models', sizeGb: 50 },
          { name: 'cogvideox-output', mountPath: '/output', sizeGb: 50 },
        ],
        healthCheck: { tcp: { port: VIDEO_PORT }, via: 'python', startPeriodSeconds: 600 },
        resources: { cpus: 8, memoryGb: 32 },
        gpu: { count: 1 },
        profile: BACKUP_PROFILE,
      }),
    );
  }
}
