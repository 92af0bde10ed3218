import type { Node } from '../model/node.js';
import { Platform } from '../model/platform.js';
import { Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import { defineService } from './descriptor.js';
import { catalogProps, type CatalogServiceProps } from './common.js';

export const OLLAMA_PORT = 11434;

/**
 * Resources of Ollama on the CPU: the weights sit in RAM and every token is computed by the
 * cores, so it gets up to 8 of the node's cores and half its memory (the RAM budget of `validate`
 * checks the models against it). Ollama documents CPU-only as the same image run without GPU
 * access (docs/docker.md, "CPU only"), which is what a service without a GPU request renders to.
 */
function cpuResources(node: Node): { cpus: number; memoryGb: number } {
  return { cpus: Math.min(8, node.cpus), memoryGb: Math.min(32, Math.floor(node.memoryGb / 2)) };
}

/** Ollama: local LLM inference on the GPU, or on the CPU. Never `OLLAMA_ORIGINS=*`: only the gateway calls it. */
export class Ollama extends Service {
  /**
   * On the CPU: the threads each model computes with, one per core it is given. Ollama has no
   * server-wide setting for it (no OLLAMA_* variable); it is the runner option `num_thread`
   * (api/types.go: Runner.NumThread, 0 "let the runtime decide" from the cores it detects, which a
   * container's CPU limit does not change), sent by LiteLLM with every request. Undefined on a GPU.
   */
  readonly cpuThreads?: number;

  constructor(stack: Stack, props: CatalogServiceProps) {
    const tuning = Platform.of(stack).config.ollama;
    const onCpu = props.onCpu ?? false;
    super(
      stack,
      'ollama',
      catalogProps('ollama', props, {
        description: 'LLM inference (Ollama)',
        env: {
          // Listen inside the container; who may reach it is decided by the zone networks.
          OLLAMA_HOST: `0.0.0.0:${OLLAMA_PORT}`,
          OLLAMA_NUM_PARALLEL: String(tuning.numParallel),
          OLLAMA_MAX_LOADED_MODELS: String(tuning.maxLoadedModels),
          OLLAMA_KEEP_ALIVE: tuning.keepAlive,
        },
        ports: [{ port: OLLAMA_PORT, name: 'api' }],
        volumes: [{ name: 'ollama-models', mountPath: '/root/.ollama', sizeGb: 150, holds: 'models' }],
        // The image ships no curl or wget; the CLI talks to the server.
        healthCheck: { exec: ['ollama', 'list'], startPeriodSeconds: 60 },
        resources: onCpu ? cpuResources(props.nodes[0] as Node) : { cpus: 8, memoryGb: 32 },
        // Up to `ollama.maxLoadedModels` of `models.ollama` resident at once.
        gpuModels: { kind: 'llm-resident' },
        // `ollama pull` (sent by ollama-init) makes the server itself download the weights.
        egress: [{ host: 'registry.ollama.ai', why: 'model downloads (ollama pull)' }],
      }),
    );
    if (onCpu) this.cpuThreads = Math.max(1, Math.floor(this.resources.cpus));
  }
}

/**
 * Ollama: on the first GPU node (NVIDIA or AMD), one GPU; on the first server's CPU when no node has a GPU or with
 * `services.ollama.gpus: 0`. Answers anyone who reaches it, so never beside the edge.
 */
export const ollama = defineService({
  name: 'ollama',
  image: 'ollama/ollama:0.11.4',
  stack: 'llm',
  zone: 'gpu',
  on: 'gpu',
  gpus: 1,
  cpuFallback: true,
  // ROCm: Ollama publishes `<version>-rocm` with every release (docs/docker.md, "AMD GPU": the
  // rocm tag, run with /dev/kfd and /dev/dri).
  gpuVendors: ['nvidia', 'amd'],
  rocmTagSuffix: '-rocm',
  inference: true,
  create: ({ stack, props }) => new Ollama(stack, props),
});
