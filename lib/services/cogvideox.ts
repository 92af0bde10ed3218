import { Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import { catalogProps, type CatalogServiceProps } from './common.js';
import { videoServerProps } from './video-server.js';

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
        ...videoServerProps({ name: 'cogvideox', modelsSizeGb: 50, memoryGb: 32 }),
        gpu: { count: 1 },
        profile: BACKUP_PROFILE,
      }),
    );
  }
}
