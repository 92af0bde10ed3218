import { Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import { defineService } from './descriptor.js';
import { catalogProps, type CatalogServiceProps } from './common.js';
import { videoServerProps } from './video-server.js';

/** Mochi 1: text-to-video on every GPU of its node. */
export class Mochi extends Service {
  constructor(stack: Stack, props: CatalogServiceProps) {
    super(
      stack,
      'mochi',
      catalogProps('mochi', props, {
        description: 'Video generation (Mochi 1)',
        ...videoServerProps({ name: 'mochi', modelsSizeGb: 100, memoryGb: 64 }),
        gpuModels: { kind: 'largest', models: () => ['mochi-1'] },
      }),
    );
  }
}

/** Mochi: every GPU of its node. */
export const mochi = defineService({
  name: 'mochi',
  image: 'localhost/platform/mochi:0c86aeb-1',
  build: {
    sources: ['video-server', 'mochi'],
    upstream: { repo: 'genmoai/mochi', ref: '0c86aebf386e6622deadfb47ff1996878cefc0ac', arg: 'MOCHI_COMMIT' },
    contextSha256: 'a8b649e03df3d303577d236ff4b037c491869c7ef400fab5e80c374a0e63dace',
  },
  stack: 'video',
  zone: 'gpu',
  on: 'gpu',
  gpus: 'all',
  create: ({ stack, props }) => new Mochi(stack, props),
});
