import { Platform } from '../model/platform.js';
import { Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import { defineService } from './descriptor.js';
import { catalogProps, type CatalogServiceProps } from './common.js';

export const OLLAMA_PORT = 11434;

/** Ollama: local LLM inference on the GPU. Never `OLLAMA_ORIGINS=*`: only the gateway calls it. */
export class Ollama extends Service {
  constructor(stack: Stack, props: CatalogServiceProps) {
    const tuning = Platform.of(stack).config.ollama;
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
        resources: { cpus: 8, memoryGb: 32 },
        // Up to `ollama.maxLoadedModels` of `models.ollama` resident at once.
        gpuModels: { kind: 'llm-resident' },
        // `ollama pull` (sent by ollama-init) makes the server itself download the weights.
        egress: [{ host: 'registry.ollama.ai', why: 'model downloads (ollama pull)' }],
      }),
    );
  }
}

/** Ollama: on the first GPU node, one GPU; answers anyone who reaches it, so never beside the edge. */
export const ollama = defineService({
  name: 'ollama',
  image: 'ollama/ollama:0.11.4',
  stack: 'llm',
  zone: 'gpu',
  on: 'gpu',
  gpus: 1,
  inference: true,
  create: ({ stack, props }) => new Ollama(stack, props),
});
