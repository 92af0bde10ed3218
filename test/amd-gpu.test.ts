import { describe, expect, it } from 'vitest';
import type { PlatformConfigInput } from '../lib/config/schema.js';
import { buildPlatform } from '../lib/synth.js';
import { validate } from '../lib/validate/validate.js';
import { podSpec, renderK3sTree } from './support/k3s.js';
import { inlineConfig, loadFixture, renderTree } from './support/render.js';

/*
 * AMD GPUs (ROCm) beside NVIDIA ones: test/fixtures/valid/amd.yaml has a server, an NVIDIA node
 * (rtx) and an AMD node (radeon) that Ollama is moved to. The shared checks (schemas, dclint,
 * promtool, Caddy) run over that fixture with the others; these are the direct assertions.
 */

const amdOnly: PlatformConfigInput = {
  nodes: {
    homelab: { role: 'server', address: '192.168.1.10' },
    radeon: { role: 'gpu', address: '192.168.1.12', gpus: [{ model: 'Radeon RX 7900 XTX', vramGb: 24, vendor: 'amd' }] },
  },
};

describe('Ollama on an AMD node', () => {
  it('Compose: the ROCm image, /dev/kfd and /dev/dri with the video group, no NVIDIA reservation', () => {
    const service = renderTree(loadFixture('valid', 'amd')).service('radeon/llm', 'ollama');
    expect(service.image).toBe('ollama/ollama:0.11.4-rocm');
    expect(service.devices).toEqual(['/dev/kfd', '/dev/dri']);
    expect(service.group_add).toEqual(['video']);
    expect(service.deploy.resources.reservations).toBeUndefined();
    expect(JSON.stringify(service)).not.toContain('nvidia');
  });

  it('k3s: amd.com/gpu, the AMD label and taint, no nvidia runtime; the AMD device plugin beside NVIDIA\'s', async () => {
    const tree = await renderK3sTree(loadFixture('valid', 'amd'));
    const pod = podSpec(tree.all('StatefulSet').find((w) => w.metadata.name === 'ollama'));
    expect(pod.containers[0].image).toBe('ollama/ollama:0.11.4-rocm');
    expect(pod.containers[0].resources.limits['amd.com/gpu']).toBe(1);
    expect(pod.containers[0].resources.limits['nvidia.com/gpu']).toBeUndefined();
    expect(pod.runtimeClassName).toBeUndefined();
    expect(pod.nodeSelector).toEqual({ 'kubernetes.io/hostname': 'radeon', 'amd.com/gpu.present': 'true' });
    expect(pod.tolerations).toEqual([{ key: 'amd.com/gpu', operator: 'Equal', value: 'present', effect: 'NoSchedule' }]);

    const amdPlugin = tree.get('Application', 'argocd', 'amd-gpu-device-plugin');
    expect(amdPlugin.spec.source).toMatchObject({ repoURL: 'https://rocm.github.io/k8s-device-plugin/', chart: 'amd-gpu', targetRevision: '0.22.0' });
    expect(amdPlugin.spec.source.helm.valuesObject.tolerations).toContainEqual({ key: 'amd.com/gpu', operator: 'Exists', effect: 'NoSchedule' });
    // NVIDIA's plugin still serves rtx, and only rtx's config is in it.
    expect(tree.get('Application', 'argocd', 'nvidia-device-plugin').spec.source.helm.valuesObject.config.default).toBe('time-slicing-3');
    const readme = tree.files.get('README.md') ?? '';
    expect(readme).toContain('kubectl label node radeon amd.com/gpu.present=true');
    expect(readme).toContain('kubectl taint node radeon amd.com/gpu=present:NoSchedule');
    expect(readme).toContain('kubectl label node rtx nvidia.com/gpu.present=true');
  });

  it('the CUDA-only services stay on the NVIDIA node; each vendor gets its own exporter', () => {
    const platform = buildPlatform(loadFixture('valid', 'amd'));
    const on = (name: string) => platform.service(name)?.nodes.map((n) => n.name);
    expect([on('comfyui'), on('mochi'), on('cogvideox')]).toEqual([['rtx'], ['rtx'], ['rtx']]);
    expect(on('gpu-exporter')).toEqual(['rtx']);
    expect(on('amd-gpu-exporter')).toEqual(['radeon']);
    expect(platform.service('amd-gpu-exporter')?.image).toBe('rocm/device-metrics-exporter:v1.4.0.1');
  });

  it('the GPU dashboard and the temperature alert read the AMD exporter too', () => {
    const tree = renderTree(loadFixture('valid', 'amd'));
    const dashboard = [...tree.files].find(([path]) => path.endsWith('dashboards/gpus.json'))?.[1];
    const monitoring = [...tree.files].filter(([path]) => path.startsWith('homelab/monitoring/')).map(([, text]) => text).join('\n');
    expect(monitoring).toContain('gpu_edge_temperature > 80');
    expect(monitoring).toContain('DCGM_FI_DEV_GPU_TEMP > 80');
    if (dashboard !== undefined) {
      expect(dashboard).toContain('gpu_gfx_activity');
      expect(dashboard).toContain('DCGM_FI_DEV_GPU_UTIL');
    } else {
      // Coolify: the dashboards travel inside the compose file.
      expect(monitoring).toContain('gpu_gfx_activity');
      expect(monitoring).toContain('DCGM_FI_DEV_GPU_UTIL');
    }
  });

  it('passes validate with no error', async () => {
    const result = await validate(() => loadFixture('valid', 'amd'));
    expect(result.errors).toBe(0);
  });
});

describe('a platform whose only GPUs are AMD', () => {
  it('places Ollama on the AMD node and leaves the CUDA builds out, naming why', () => {
    const platform = buildPlatform(inlineConfig(amdOnly));
    expect(platform.service('ollama')?.nodes.map((n) => n.name)).toEqual(['radeon']);
    expect(platform.leftOut).toEqual([
      { service: 'comfyui', reason: 'no node has a GPU its image runs on (NVIDIA)' },
      { service: 'comfyui-models', reason: 'needs comfyui' },
      { service: 'mochi', reason: 'no node has a GPU its image runs on (NVIDIA)' },
      { service: 'cogvideox', reason: 'no node has a GPU its image runs on (NVIDIA)' },
    ]);
    // NVIDIA's exporter is not built and not reported: the AMD one covers the GPUs.
    expect(platform.service('gpu-exporter')).toBeUndefined();
    expect(platform.service('amd-gpu-exporter')?.nodes.map((n) => n.name)).toEqual(['radeon']);
  });

  it('refuses a CUDA service asked for explicitly, and one moved onto the AMD node', () => {
    expect(() => buildPlatform(inlineConfig({ ...amdOnly, services: { mochi: { enabled: true } } }))).toThrow(
      'services.mochi.enabled: mochi runs only on NVIDIA GPUs and no node has one; add such a node (nodes.<name>.gpus[].vendor) or drop services.mochi.enabled: true (it is left out on its own then)',
    );
    // The file fixture (test/fixtures/invalid/cuda-service-on-amd-node) pins the line for a move.
  });

  it('on a multi-GPU AMD node Compose selects the GPUs with ROCR_VISIBLE_DEVICES', () => {
    const twoCards = {
      nodes: {
        homelab: { role: 'server' as const, address: '192.168.1.10' },
        radeon: {
          role: 'gpu' as const,
          address: '192.168.1.12',
          gpus: [
            { model: 'Radeon RX 7900 XTX', vramGb: 24, vendor: 'amd' as const },
            { model: 'Radeon RX 7900 XTX', vramGb: 24, vendor: 'amd' as const },
          ],
        },
      },
      services: { ollama: { gpuDevices: [1] } },
    };
    expect(renderTree(inlineConfig(twoCards)).service('radeon/llm', 'ollama').environment?.ROCR_VISIBLE_DEVICES).toBe('1');
  });

  it('raises no AMD sharing warning while each AMD GPU has one service (only Ollama runs on ROCm today)', async () => {
    const config = {
      nodes: {
        homelab: { role: 'server' as const, address: '192.168.1.10' },
        rtx: { role: 'gpu' as const, address: '192.168.1.11', gpus: [{ model: 'RTX 4090', vramGb: 24 }] },
        radeon: amdOnly.nodes?.radeon as never,
      },
      services: { ollama: { node: 'radeon' }, cogvideox: { enabled: false }, mochi: { enabled: false } },
      apps: {},
    };
    const none = await validate(() => inlineConfig(config));
    expect(none.findings.filter((f) => f.rule === 'gpu-sharing-amd-k3s')).toEqual([]);
  });
});
