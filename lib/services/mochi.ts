import { Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
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
        gpu: { count: 'all' },
      }),
    );
  }
}
