import { describe, expect, it } from 'vitest';
import { referenceConfig } from '../lib/config/load.js';
import { configText, inlineConfig, renderTree } from './support/render.js';
import type { LoadedConfig } from '../lib/config/load.js';
import { readYaml } from './support/yaml.js';

/*
 * LLM rate limits in the rendered LiteLLM config (the keys LiteLLM v1.79.1 reads):
 * - per model, for every caller together: `litellm_params.rpm` / `tpm`, enforced by the
 *   usage-based-routing-v2 strategy (router_strategy/lowest_tpm_rpm_v2.py pre_call_check raises
 *   RateLimitError "Deployment over defined rpm limit", a 429); simple-shuffle only weighs by them;
 * - per virtual key: `litellm_settings.default_key_generate_params` (key_management_endpoints.py
 *   fills rpm_limit, tpm_limit, max_parallel_requests and metadata of /key/generate requests that
 *   leave them out), per model through the metadata `model_rpm_limit` / `model_tpm_limit` that the
 *   parallel request limiter reads (proxy/auth/auth_utils.py get_key_model_rpm_limit).
 */

interface LitellmConfig {
  model_list: { model_name: string; litellm_params: Record<string, unknown> }[];
  litellm_settings: { default_key_generate_params?: Record<string, unknown> };
  router_settings: Record<string, unknown>;
}

function litellmConfig(loaded: LoadedConfig): LitellmConfig {
  const tree = renderTree(loaded, 'plain');
  return readYaml(configText(tree, 'homelab/llm', 'litellm', '/app/config.yaml') as string) as LitellmConfig;
}

describe('LiteLLM rate limits', () => {
  it('by default every new virtual key may send 600 requests a minute (10 a second), models are not capped', () => {
    const config = litellmConfig(referenceConfig());
    expect(config.litellm_settings.default_key_generate_params).toEqual({ rpm_limit: 600 });
    expect(config.router_settings.routing_strategy).toBe('simple-shuffle');
    for (const model of config.model_list) expect(model.litellm_params).not.toHaveProperty('rpm');
  });

  it('per-model limits for every caller: rpm/tpm on the deployment and the strategy that enforces them', () => {
    const reference = referenceConfig().config.models.ollama;
    const config = litellmConfig(
      inlineConfig({ models: { ollama: reference.map((m) => (m.alias === 'gpt-4' ? { ...m, rpm: 30, tpm: 40000 } : m)) } }),
    );
    expect(config.model_list.find((m) => m.model_name === 'gpt-4')?.litellm_params).toMatchObject({ rpm: 30, tpm: 40000 });
    expect(config.model_list.find((m) => m.model_name === 'gpt-3.5-turbo')?.litellm_params).not.toHaveProperty('rpm');
    expect(config.router_settings.routing_strategy).toBe('usage-based-routing-v2');
    // No Valkey: each replica counts alone.
    expect(config.router_settings).not.toHaveProperty('redis_host');
  });

  it('with the Valkey cache, the per-model counts are shared by every LiteLLM replica', () => {
    const reference = referenceConfig().config.models.ollama;
    const config = litellmConfig(inlineConfig({ litellm: { cache: true }, models: { ollama: reference.map((m) => ({ ...m, rpm: 100 })) } }));
    expect(config.router_settings).toMatchObject({ redis_host: 'os.environ/REDIS_HOST', redis_port: 'os.environ/REDIS_PORT', redis_password: 'os.environ/REDIS_PASSWORD' });
  });

  it('per-key defaults: requests, tokens, parallel requests, and per model through the key metadata the limiter reads', () => {
    const config = litellmConfig(
      inlineConfig({
        litellm: { spendLogs: true, keyLimits: { rpm: 120, tpm: 50000, maxParallelRequests: 4, models: { 'gpt-4': { rpm: 10, tpm: 20000 }, 'gpt-3.5-turbo': { rpm: 60 } } } },
      }),
    );
    expect(config.litellm_settings.default_key_generate_params).toEqual({
      rpm_limit: 120,
      tpm_limit: 50000,
      max_parallel_requests: 4,
      metadata: { model_rpm_limit: { 'gpt-4': 10, 'gpt-3.5-turbo': 60 }, model_tpm_limit: { 'gpt-4': 20000 } },
    });
  });

  it('no key limits at all when the owner clears the default', () => {
    const config = litellmConfig(inlineConfig({ litellm: { keyLimits: { models: {} } } }));
    expect(config.litellm_settings).not.toHaveProperty('default_key_generate_params');
  });
});
