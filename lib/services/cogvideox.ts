import { Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import { defineService } from './descriptor.js';
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
        gpuModels: { kind: 'largest', models: () => ['cogvideox-5b'] },
        profile: BACKUP_PROFILE,
      }),
    );
  }
}

/** CogVideoX: one GPU, started on demand (profile `backup`). */
export const cogvideox = defineService({
  name: 'cogvideox',
  image: 'localhost/platform/cogvideox:e519ece-1',
  build: {
    sources: ['video-server', 'cogvideox'],
    upstream: { repo: 'THUDM/CogVideo', ref: 'e519eced782c08db81f45e5eb40baa45958087ae', arg: 'COGVIDEO_COMMIT' },
    contextSha256: '1faa6e032170d7d1d5882fb3005e6e386099b9ee792f689c518044080e9f345b',
  },
  stack: 'video',
  zone: 'gpu',
  on: 'gpu',
  gpus: 1,
  create: ({ stack, props }) => new CogVideoX(stack, props),
});
