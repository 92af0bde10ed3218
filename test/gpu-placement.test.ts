import { describe, expect, it } from 'vitest';
import { buildPlatform } from '../lib/synth.js';
import { PROFILES } from '../lib/config/profiles.js';
import { validate } from '../lib/validate/validate.js';
import { podSpec, renderK3sTree } from './support/k3s.js';
import { inlineConfig, renderTree } from './support/render.js';

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

describe('validate and both renderers agree on who runs on which GPU', () => {
  /** The optimal profile with ComfyUI and Mochi pinned to GPU 0 of gpu-a, beside Ollama. */
  const pinnedToGpu0 = () => {
    const optimal = structuredClone(PROFILES.optimal.config) as Parameters<typeof inlineConfig>[0];
    return inlineConfig({
      ...optimal,
      services: { ...optimal.services, comfyui: { node: 'gpu-a', gpuDevices: [0] }, mochi: { node: 'gpu-a', gpus: 1, gpuDevices: [0] } },
    });
  };

  it('three services pinned to GPU 0 of a 2-GPU node: validate names GPU 0 and the idle GPU 1, as Compose and k3s render them', async () => {
    const loaded = pinnedToGpu0();
    const result = await validate(() => loaded);
    const finding = result.findings.find((f) => f.rule === 'gpu-oversubscribed');
    expect(finding?.message).toBe(
      'GPU 0 of gpu-a runs 3 GPU services (ollama, comfyui, mochi) while GPU 1 idles: Compose hands them the same device, k3s time-slices each GPU of gpu-a into 3; compute is shared and VRAM is not isolated',
    );
    // Compose: every one of them reserves device 0 of gpu-a.
    const compose = renderTree(loaded);
    for (const [dir, name] of [['gpu-a/llm', 'ollama'], ['gpu-a/image', 'comfyui'], ['gpu-a/video', 'mochi']] as const) {
      expect(compose.service(dir, name).deploy.resources.reservations?.devices[0]).toMatchObject({ driver: 'nvidia', device_ids: ['0'] });
    }
    // k3s: gpu-a's device plugin time-slices into 3 (the most services on one GPU), one slot per pod.
    const k3s = await renderK3sTree(loaded);
    const plugin = k3s.get('Application', 'argocd', 'nvidia-device-plugin');
    // gpu-a is the first GPU node, so its config is the plugin's default.
    expect(plugin.spec.source.helm.valuesObject.config.default).toBe('time-slicing-3');
    expect(plugin.spec.source.helm.valuesObject.config.map['time-slicing-3']).toContain('replicas: 3');
    for (const name of ['ollama', 'comfyui', 'mochi']) {
      const workload = k3s.all('StatefulSet').find((w) => w.metadata.name === name);
      expect(podSpec(workload).containers[0].resources.limits['nvidia.com/gpu']).toBe(1);
    }
    // The VRAM budget counts the same three on GPU 0 and nothing on GPU 1.
    const budget = result.findings.filter((f) => f.rule === 'vram-budget');
    expect(budget.map((f) => f.path)).toEqual([['nodes', 'gpu-a', 'gpus', 0]]);
    expect(budget[0]?.message).toMatch(/ollama .* \+ comfyui sdxl 8 GB \+ mochi mochi-1 22 GB$/);
  });

  it('two services pinned to one GPU of a 2-GPU node share it: reported, though they are not more than the GPUs', async () => {
    const loaded = inlineConfig({ nodes: twoGpus, services: { comfyui: { gpuDevices: [1] }, mochi: { enabled: false }, cogvideox: { enabled: false }, ollama: { gpuDevices: [1] } } });
    const result = await validate(() => loaded);
    expect(result.findings.find((f) => f.rule === 'gpu-oversubscribed')?.message).toBe(
      'GPU 1 of rtx runs 2 GPU services (ollama, comfyui) while GPU 0 idles: Compose hands them the same device, k3s time-slices each GPU of rtx into 2; compute is shared and VRAM is not isolated',
    );
  });

  it('a GPU on a service that cannot use one is refused, not dropped', () => {
    // The file fixture (test/fixtures/invalid/gpus-on-cpu-service) pins the whole line with the value.
    expect(() => inlineConfig({ services: { postgres: { gpus: 1 } } })).toThrow(
      'services.postgres.gpus: postgres cannot use a GPU; services that take GPUs: ollama, comfyui, mochi, cogvideox',
    );
  });
});
