import type { Platform } from '../model/platform.js';
import type { Ollama } from '../services/ollama.js';
import type { Resolver } from '../model/values.js';
import { generatedHeader, toYaml } from '../output/yaml.js';

const OLLAMA_PORT = 11434;

/**
 * Defaults of every virtual key made with /key/generate (`default_key_generate_params`: LiteLLM's
 * key_management_endpoints.py fills `rpm_limit`, `tpm_limit`, `max_parallel_requests` when the
 * request leaves them out, and `metadata` when it has none; the parallel request limiter reads a
 * key's per-model limits from its metadata `model_rpm_limit` / `model_tpm_limit`).
 */
function keyDefaults(platform: Platform): Record<string, unknown> {
  const limits = platform.config.litellm.keyLimits;
  const perModel = (field: 'rpm' | 'tpm') =>
    Object.fromEntries(Object.entries(limits.models).flatMap(([model, l]) => (l[field] !== undefined ? [[model, l[field]]] : [])));
  const metadata = {
    ...(Object.keys(perModel('rpm')).length > 0 ? { model_rpm_limit: perModel('rpm') } : {}),
    ...(Object.keys(perModel('tpm')).length > 0 ? { model_tpm_limit: perModel('tpm') } : {}),
  };
  const params = {
    ...(limits.rpm !== undefined ? { rpm_limit: limits.rpm } : {}),
    ...(limits.tpm !== undefined ? { tpm_limit: limits.tpm } : {}),
    ...(limits.maxParallelRequests !== undefined ? { max_parallel_requests: limits.maxParallelRequests } : {}),
    ...(Object.keys(metadata).length > 0 ? { metadata } : {}),
  };
  return Object.keys(params).length > 0 ? { default_key_generate_params: params } : {};
}

/**
 * LiteLLM config: every Ollama model under its alias (OpenAI names), fallbacks, the master key and
 * database URL read from the environment (`os.environ/...`), never written here.
 */
export function renderLitellmConfig(platform: Platform, resolve: Resolver, opts: { ollama: Ollama; cache: boolean; traces?: boolean }): string {
  const apiBase = resolve.url(opts.ollama, OLLAMA_PORT);
  const models = platform.config.models.ollama;
  const fallbacks = models
    .filter((m) => m.fallbacks.length > 0)
    .map((m) => ({ [m.alias ?? m.name]: m.fallbacks }));
  const modelLimited = models.some((m) => m.rpm !== undefined || m.tpm !== undefined);
  const config = {
    model_list: models.map((m) => ({
      model_name: m.alias ?? m.name,
      litellm_params: {
        model: `${m.mode === 'embedding' ? 'ollama' : 'ollama_chat'}/${m.name}`,
        api_base: apiBase,
        // Ollama on the CPU computes with as many threads as it has cores (LiteLLM's OllamaConfig passes num_thread on).
        ...(opts.ollama.cpuThreads !== undefined ? { num_thread: opts.ollama.cpuThreads } : {}),
        ...(m.rpm !== undefined ? { rpm: m.rpm } : {}),
        ...(m.tpm !== undefined ? { tpm: m.tpm } : {}),
      },
      model_info: { mode: m.mode },
    })),
    litellm_settings: {
      drop_params: true,
      request_timeout: 600,
      telemetry: false,
      ...(opts.cache ? { cache: true, cache_params: { type: 'redis', host: 'os.environ/REDIS_HOST', port: 'os.environ/REDIS_PORT' } } : {}),
      ...keyDefaults(platform),
      // Every request, answered or failed, as a trace in Langfuse (keys and host from the environment).
      ...(opts.traces ? { success_callback: ['langfuse'], failure_callback: ['langfuse'] } : {}),
    },
    router_settings: {
      // A model's rpm/tpm is only a weight under simple-shuffle; usage-based-routing-v2 counts each
      // model's requests and tokens per minute and answers 429 past them (router_strategy/
      // lowest_tpm_rpm_v2.py, pre_call_check: "Deployment over defined rpm limit").
      routing_strategy: modelLimited ? 'usage-based-routing-v2' : 'simple-shuffle',
      // With Valkey the counts are shared by every replica (the HPA runs up to three); without it
      // each replica counts alone.
      ...(modelLimited && opts.cache ? { redis_host: 'os.environ/REDIS_HOST', redis_port: 'os.environ/REDIS_PORT', redis_password: 'os.environ/REDIS_PASSWORD' } : {}),
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
