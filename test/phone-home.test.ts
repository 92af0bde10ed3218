import { describe, expect, it } from 'vitest';
import { referenceConfig } from '../lib/config/load.js';
import { egressReport } from '../lib/validate/sovereignty.js';
import { buildReferencePlatform } from '../stacks/reference.js';
import { inlineConfig, renderTree } from './support/render.js';
import { readYaml } from './support/yaml.js';

/*
 * What each image does by default that a homelab owner would not expect: report usage, check for
 * updates, download models from Hugging Face, let the first visitor become admin. Each default is
 * turned off where the image allows it, and what is left is listed by the sovereignty audit.
 */

const tree = renderTree(undefined, 'plain');

describe('Loki', () => {
  const config = readYaml(tree.files.get('homelab/monitoring/loki/config.yaml') ?? '') as Record<string, Record<string, unknown>>;

  it('deletes logs after monitoring.retentionDays and reports no usage statistics', () => {
    expect(config.limits_config?.retention_period).toBe(`${30 * 24}h`);
    expect(config.compactor?.retention_enabled).toBe(true);
    expect(config.analytics?.reporting_enabled).toBe(false);
    expect(tree.service('homelab/monitoring', 'loki').command).toEqual(['-config.file=/etc/loki/config.yaml']);
  });

  it('follows monitoring.retentionDays', () => {
    const other = renderTree(inlineConfig({ monitoring: { retentionDays: 7 } }), 'plain');
    expect(other.files.get('homelab/monitoring/loki/config.yaml')).toContain('retention_period: 168h');
  });
});

describe('Grafana, Alloy, LiteLLM', () => {
  it('Grafana reports nothing and checks for nothing', () => {
    const env = tree.service('homelab/monitoring', 'grafana').environment ?? {};
    for (const key of ['GF_ANALYTICS_REPORTING_ENABLED', 'GF_ANALYTICS_CHECK_FOR_UPDATES', 'GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES', 'GF_NEWS_NEWS_FEED_ENABLED']) expect(env[key], key).toBe('false');
    expect(env.GF_SECURITY_DISABLE_GRAVATAR).toBe('true');
  });

  it('Alloy does not send usage statistics', () => {
    for (const node of ['homelab', 'rtx']) expect(tree.service(`${node}/monitoring`, 'alloy').command).toContain('--disable-reporting');
  });

  it('LiteLLM uses the cost map in its image instead of fetching it', () => {
    expect(tree.service('homelab/llm', 'litellm').environment?.LITELLM_LOCAL_MODEL_COST_MAP).toBe('True');
  });
});

describe('Open WebUI', () => {
  const env = tree.service('homelab/chat', 'open-webui').environment ?? {};

  it('creates its admin from acmeEmail and a secret, with sign-up off', () => {
    expect(env.WEBUI_ADMIN_EMAIL).toBe('admin@example.com');
    expect(env.WEBUI_ADMIN_PASSWORD).toBe('${OPEN_WEBUI_ADMIN_PASSWORD:?}');
    expect(env.ENABLE_SIGNUP).toBe('false');
    expect(env.DEFAULT_USER_ROLE).toBe('pending');
  });

  it('embeds documents with the local Ollama embedding model through LiteLLM, never downloading one', () => {
    expect(env.RAG_EMBEDDING_ENGINE).toBe('openai');
    expect(env.RAG_EMBEDDING_MODEL).toBe('text-embedding-ada-002');
    expect(env.RAG_OPENAI_API_BASE_URL).toBe('http://litellm:4000/v1');
    expect(env.RAG_OPENAI_API_KEY).toBe(env.OPENAI_API_KEY);
    expect(env.OFFLINE_MODE).toBe('true');
    const litellm = readYaml(tree.files.get('homelab/llm/litellm/config.yaml') ?? '') as { model_list: { model_name: string; litellm_params: { model: string } }[] };
    expect(litellm.model_list.find((m) => m.model_name === 'text-embedding-ada-002')?.litellm_params.model).toBe('ollama/nomic-embed-text');
  });

  it('without an embedding model, the audit lists the Hugging Face download it falls back to', () => {
    const models = referenceConfig().config.models.ollama.filter((m) => m.mode !== 'embedding');
    const platform = buildReferencePlatform(inlineConfig({ models: { ollama: models } }).config);
    expect(egressReport(platform).filter((e) => e.from === 'open-webui').map((e) => e.host)).toEqual(['huggingface.co']);
  });
});

describe('the sovereignty audit', () => {
  it('lists what is left: the update check only Uptime Kuma\'s UI can turn off', () => {
    const egress = egressReport(buildReferencePlatform(referenceConfig().config));
    expect(egress.find((e) => e.from === 'uptime-kuma')?.host).toBe('uptime.kuma.pet');
    expect(egress.some((e) => e.from === 'open-webui')).toBe(false);
  });
});
