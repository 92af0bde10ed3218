import { describe, expect, it } from 'vitest';
import { PROFILES } from '../lib/config/profiles.js';
import type { PlatformConfigInput } from '../lib/config/schema.js';
import { buildReferencePlatform } from '../stacks/reference.js';
import { inlineConfig } from './support/render.js';

describe('the optimal profile', () => {
  it('spreads the always-on GPU services over its three GPUs: one GPU each for Ollama, ComfyUI and Mochi', () => {
    const platform = buildReferencePlatform(inlineConfig(PROFILES.optimal.config as PlatformConfigInput).config);
    const where = (name: string) => {
      const service = platform.service(name);
      if (!service) throw new Error(`${name} missing`);
      return service.nodes.flatMap((n) => platform.gpuDevices(service, n).map((d) => `${n.name}/${d}`));
    };
    const always = ['ollama', 'comfyui', 'mochi'].map(where);
    expect(always).toEqual([['gpu-a/0'], ['gpu-b/0'], ['gpu-a/1']]);
    expect(new Set(always.flat()).size).toBe(3);
    // The on-demand backup video model takes the second server's GPU when it is started.
    expect(where('cogvideox')).toEqual(['gpu-b/0']);
  });
});
