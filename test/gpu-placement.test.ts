import { describe, expect, it } from 'vitest';
import { buildPlatform } from '../lib/synth.js';
import { inlineConfig } from './support/render.js';

const twoGpus = {
  homelab: { role: 'server' as const, address: '192.168.1.10' },
  rtx: { role: 'gpu' as const, address: '192.168.1.11', gpus: [{ model: 'RTX 4090', vramGb: 24 }, { model: 'RTX 4090', vramGb: 24 }] },
};

function placement(data: Parameters<typeof inlineConfig>[0]): Record<string, readonly number[]> {
  const platform = buildPlatform(inlineConfig(data));
  const out: Record<string, readonly number[]> = {};
  for (const service of platform.services) {
    for (const node of service.nodes) if (service.gpu) out[`${service.name}@${node.name}`] = platform.gpuDevices(service, node);
  }
  return out;
}

describe('GPU placement', () => {
  it('spreads single-GPU services over the least-loaded GPUs, "all" takes every GPU', () => {
    expect(placement({ nodes: twoGpus })).toEqual({
      'ollama@rtx': [0],
      'comfyui@rtx': [1],
      'mochi@rtx': [0, 1],
      'cogvideox@rtx': [0],
    });
  });

  it('keeps pinned devices and places the rest around them', () => {
    expect(placement({ nodes: twoGpus, services: { ollama: { gpuDevices: [1] } } })).toMatchObject({ 'ollama@rtx': [1], 'comfyui@rtx': [0] });
  });

  it('puts every GPU service on GPU 0 of a single-GPU node', () => {
    expect(Object.values(placement({}))).toEqual([[0], [0], [0], [0]]);
  });

  it('rejects asking for more GPUs than the node has', () => {
    expect(() => placement({ services: { comfyui: { gpus: 2 } } })).toThrow('services.comfyui.gpus: comfyui asks for 2 GPUs but node "rtx" has 1');
  });
});
