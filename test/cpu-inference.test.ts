import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROFILES } from '../lib/config/profiles.js';
import type { PlatformConfigInput } from '../lib/config/schema.js';
import type { Ollama } from '../lib/services/ollama.js';
import { buildPlatform, summarize, synthesize } from '../lib/synth.js';
import { validate } from '../lib/validate/validate.js';
import { podSpec, renderK3sTree } from './support/k3s.js';
import { inlineConfig, loadFixture, renderTree } from './support/render.js';
import { readYaml } from './support/yaml.js';

/*
 * CPU inference: Ollama on a node without a GPU (no GPU node at all, its node has none, or
 * `services.ollama.gpus: 0`), GPU-only services left out where nothing can hold them, and the
 * RAM budget of the models loaded on the CPU.
 */

const vps = PROFILES.vps.config as PlatformConfigInput;
const gpuLess: PlatformConfigInput = { nodes: { homelab: { role: 'server', address: '192.168.1.10', cpus: 8, memoryGb: 32 } } };

/** The LiteLLM config as rendered into the llm stack's compose file. */
function litellmModels(tree: ReturnType<typeof renderTree>, dir: string): { litellm_params: Record<string, unknown> }[] {
  const configs = (tree.compose(dir) as { configs?: Record<string, { content?: string }> }).configs ?? {};
  const content = Object.values(configs).find((c) => c.content?.includes('model_list'))?.content;
  if (content === undefined) throw new Error(`no LiteLLM config in ${dir}`);
  return (readYaml(content) as { model_list: { litellm_params: Record<string, unknown> }[] }).model_list;
}

describe('Ollama on the CPU', () => {
  it('runs on the only node of a GPU-less platform, with no GPU reservation and one thread per core it is given', async () => {
    const loaded = inlineConfig(vps);
    const platform = buildPlatform(loaded);
    const ollama = platform.service('ollama') as Ollama;
    expect(ollama.nodes.map((n) => n.name)).toEqual(['vps']);
    expect(ollama.gpu).toBeUndefined();
    expect(ollama.cpuThreads).toBe(4);

    // Compose: the same image, limits, no device reservation; LiteLLM sends num_thread with every model.
    const tree = renderTree(loaded);
    const service = tree.service('vps/llm', 'ollama');
    expect(service.image).toBe('ollama/ollama:0.11.4');
    expect(service.deploy.resources.reservations).toBeUndefined();
    expect(service.deploy.resources.limits).toEqual({ cpus: '4', memory: '8G' });
    expect(litellmModels(tree, 'vps/llm').map((m) => m.litellm_params.num_thread)).toEqual([4, 4]);

    // k3s: no NVIDIA runtime, no GPU limit, no GPU toleration or selector.
    const k3s = await renderK3sTree(loaded);
    const pod = podSpec(k3s.all('StatefulSet').find((w) => w.metadata.name === 'ollama'));
    expect(pod.runtimeClassName).toBeUndefined();
    expect(pod.containers[0].resources.limits['nvidia.com/gpu']).toBeUndefined();
    expect(JSON.stringify(pod)).not.toContain('nvidia');
    expect(k3s.all('Application').map((a) => a.metadata.name)).not.toContain('nvidia-device-plugin');
  });

  it('defaults to up to 8 cores and half the RAM of its node on the CPU', () => {
    const ollama = buildPlatform(inlineConfig(gpuLess)).service('ollama') as Ollama;
    expect(ollama.resources).toEqual({ cpus: 8, memoryGb: 16 });
    expect(ollama.cpuThreads).toBe(8);
  });

  it('services.ollama.gpus: 0 puts it on the CPU of the first server even with a GPU node; a GPU-less node it is moved to does too', () => {
    const onCpu = buildPlatform(inlineConfig({ services: { ollama: { gpus: 0 } } }));
    const ollama = onCpu.service('ollama') as Ollama;
    expect([ollama.nodes[0]?.name, ollama.gpu, ollama.cpuThreads]).toEqual(['homelab', undefined, 8]);
    // ComfyUI keeps the GPU to itself.
    expect(onCpu.gpuAssignment.nodes[0]?.pods.map((s) => s.name)).toEqual(['comfyui', 'mochi', 'cogvideox']);

    const moved = buildPlatform(inlineConfig({ services: { ollama: { node: 'homelab' } } })).service('ollama') as Ollama;
    expect([moved.nodes[0]?.name, moved.gpu, moved.cpuThreads]).toEqual(['homelab', undefined, 8]);
  });

  it('stays on the GPU where there is one: no thread setting, the GPU reserved', () => {
    const platform = buildPlatform(inlineConfig({}));
    const ollama = platform.service('ollama') as Ollama;
    expect(ollama.cpuThreads).toBeUndefined();
    expect(ollama.gpu).toEqual({ count: 1, devices: undefined, vendors: ['nvidia', 'amd'] });
    expect(litellmModels(renderTree(inlineConfig({})), 'homelab/llm').every((m) => m.litellm_params.num_thread === undefined)).toBe(true);
  });

  it('gpus: 0 with gpuDevices is refused', () => {
    expect(() => inlineConfig({ services: { ollama: { gpus: 0, gpuDevices: [0] } } })).toThrow(
      'services.ollama.gpuDevices: ollama runs on the CPU (gpus: 0); remove gpuDevices or ask for GPUs',
    );
  });
});

describe('GPU-only services on a platform without GPUs', () => {
  it('are left out, with what needs them, and synth names them in its summary', async () => {
    const loaded = inlineConfig(gpuLess);
    const out = mkdtempSync(join(tmpdir(), 'platform-cpu-'));
    const result = await synthesize(loaded, { target: 'all', flavor: 'coolify', outDir: out });
    const names = result.platform.services.map((s) => s.name);
    for (const gpuOnly of ['comfyui', 'comfyui-models', 'mochi', 'cogvideox', 'gpu-exporter', 'amd-gpu-exporter']) expect(names).not.toContain(gpuOnly);
    expect(result.platform.stacks.map((s) => s.name)).not.toContain('image');
    expect(result.platform.stacks.map((s) => s.name)).not.toContain('video');
    const summary = summarize(result, 'coolify', 'inline.yaml');
    expect(summary).toContain('  CPU:     ollama -> homelab CPU (8 threads)');
    expect(summary).toContain(
      '  left out: comfyui, mochi, cogvideox, gpu-exporter, amd-gpu-exporter (no node has a GPU); comfyui-models (needs comfyui); a GPU node brings them back',
    );
  });

  it('a GPU-only service asked for explicitly is an error naming its key and the way out', () => {
    // The file fixture (test/fixtures/invalid/gpu-service-without-gpu-node) pins the whole line.
    expect(() => buildPlatform(inlineConfig({ ...gpuLess, services: { mochi: { enabled: true } } }))).toThrow(
      'services.mochi.enabled: mochi runs only on a GPU and no node lists gpus; add a GPU to a node (nodes.<name>.gpus) or drop services.mochi.enabled: true (without a GPU node it is left out on its own)',
    );
  });
});

describe('the RAM budget of models on the CPU', () => {
  it('the vps profile: no error, and only the warnings its README names', async () => {
    const result = await validate(() => inlineConfig(vps));
    expect(result.errors).toBe(0);
    expect(result.findings.map((f) => `${f.rule} ${f.path.join('.')}`)).toEqual([
      'node-capacity nodes.vps.cpus',
      'node-capacity nodes.vps.memoryGb',
      'host-port-coolify services.caddy',
    ]);
  });

  it('warns on a 70B model on the 16 GB box: larger than the memory limit of Ollama', async () => {
    const models = [{ name: 'llama3.3:70b-instruct-q4_K_M', alias: 'gpt-4', vramGb: 42.5 }, ...(vps.models?.ollama ?? [])];
    const result = await validate(() => inlineConfig({ ...vps, models: { ollama: models } }));
    expect(result.errors).toBe(0);
    const tooLarge = result.findings.filter((f) => f.rule === 'ram-model-too-large');
    expect(tooLarge.map((f) => [f.severity, f.path.join('.'), f.message])).toEqual([
      [
        'warning',
        'models.ollama.0.vramGb',
        'llama3.3:70b-instruct-q4_K_M needs 42.5 GB of RAM but ollama runs on the CPU with a memory limit of 8 GB: loading it fails or the container is killed for memory',
      ],
    ]);
  });

  it('warns when the resident models overflow the memory limit, and when they and the other services overflow the node', async () => {
    const models = [
      { name: 'qwen2.5:7b-instruct-q4_K_M', vramGb: 4.7 },
      { name: 'llama3.1:8b-instruct-q4_K_M', vramGb: 4.9 },
    ];
    const result = await validate(() => inlineConfig({ ...vps, models: { ollama: models } }));
    const budget = result.findings.filter((f) => f.rule === 'ram-budget');
    expect(budget.map((f) => [f.path.join('.'), f.message])).toEqual([
      [
        'nodes.vps.memoryGb',
        "vps has 16 GB of RAM; ollama's models on the CPU (9.6 GB) and the memory limits of its 13 other services (8 GB) add up to 17.6 GB",
      ],
      [
        'services.ollama.memoryGb',
        'ollama on the CPU may hold 9.6 GB of models at once (llama3.1:8b-instruct-q4_K_M 4.9 GB + qwen2.5:7b-instruct-q4_K_M 4.7 GB) but its memory limit is 8 GB',
      ],
    ]);
  });
});

describe('the vps fixture', () => {
  it('is the vps profile of platform init', () => {
    expect(loadFixture('valid', 'vps').config).toEqual(inlineConfig(vps).config);
  });
});
