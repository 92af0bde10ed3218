import { Platform } from '../model/platform.js';
import { Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import { defineService } from './descriptor.js';
import { catalogProps, type CatalogServiceProps } from './common.js';
import { OLLAMA_PORT } from './ollama.js';

export interface OllamaInitProps extends CatalogServiceProps {
  readonly ollama: Service;
}

/** One-shot: asks Ollama to pull the configured models once it is healthy. */
export class OllamaInit extends Service {
  constructor(stack: Stack, props: OllamaInitProps) {
    const models = Platform.of(stack).config.models.ollama.map((m) => m.name);
    const script = ['set -e', ...models.map((m) => `ollama pull ${m}`), `echo "pulled ${models.length} models"`].join('\n');
    super(
      stack,
      'ollama-init',
      catalogProps('ollama-init', props, {
        description: `Pulls ${models.length} Ollama models once`,
        entrypoint: ['/bin/sh', '-c'],
        command: [script],
        env: { OLLAMA_HOST: (r) => { const a = r.address(props.ollama, OLLAMA_PORT); return `${a.host}:${a.port}`; } },
        oneShot: true,
        resources: { cpus: 0.5, memoryGb: 0.5 },
        // No egress of its own: it asks Ollama to pull, and Ollama downloads.
      }),
    );
    this.connect(props.ollama, { ordering: true });
  }
}

/** Pulls the models into Ollama, beside it. */
export const ollamaInit = defineService({
  name: 'ollama-init',
  image: 'ollama/ollama:0.11.4',
  stack: 'llm',
  zone: 'gpu',
  on: { with: 'ollama' },
  requires: ['ollama'],
  create: ({ stack, props, built }) => {
    const ollama = built('ollama');
    return ollama ? new OllamaInit(stack, { ...props, ollama }) : undefined;
  },
});
