import type { Platform } from '../model/platform.js';
import type { Service } from '../model/service.js';
import type { Resolver } from '../model/values.js';
import { generatedHeader, toYaml } from '../output/yaml.js';

const OLLAMA_PORT = 11434;

/**
 * LiteLLM config: every Ollama model under its alias (OpenAI names), fallbacks, the master key and
 * database URL read from the environment (`os.environ/...`), never written here.
 */
export function renderLitellmConfig(platform: Platform, resolve: Resolver, opts: { ollama: Service; cache: boolean }): string {
  const apiBase = resolve.url(opts.ollama, OLLAMA_PORT);
  const models = platform.config.models.ollama;
  const fallbacks = models
    .filter((m) => m.fallbacks.length > 0)
    .map((m) => ({ [m.alias ?? m.name]: m.fallbacks }));
  const config = {
    model_list: models.map((m) => ({
      model_name: m.alias ?? m.name,
      litellm_params: { model: `${m.mode === 'embedding' ? 'ollama' : 'ollama_chat'}/${m.name}`, api_base: apiBase },
      model_info: { mode: m.mode },
    })),
    litellm_settings: {
      drop_params: true,
      request_timeout: 600,
      telemetry: false,
      ...(opts.cache ? { cache: true, cache_params: { type: 'redis', host: 'os.environ/REDIS_HOST', port: 'os.environ/REDIS_PORT' } } : {}),
    },
    router_settings: {
      routing_strategy: 'simple-shuffle',
      num_retries: 3,
      timeout: 600,
      retry_after: 5,
      ...(fallbacks.length > 0 ? { fallbacks } : {}),
    },
    general_settings: {
      master_key: 'os.environ/LITELLM_MASTER_KEY',
      ...(platform.config.litellm.spendLogs ? { database_url: 'os.environ/DATABASE_URL' } : {}),
    },
  };
  return generatedHeader('LiteLLM config') + toYaml(config);
}
