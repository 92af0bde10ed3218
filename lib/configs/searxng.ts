import { CGNAT_RANGE, PRIVATE_RANGES } from '../model/ipv4.js';
import type { Platform } from '../model/platform.js';
import type { Service } from '../model/service.js';
import { generatedHeader, toYaml } from '../output/yaml.js';

/** The engines the platform enables, with the host each one sends queries to. */
export const SEARXNG_ENGINES = [
  { name: 'google', shortcut: 'g', host: 'www.google.com' },
  { name: 'duckduckgo', shortcut: 'ddg', host: 'html.duckduckgo.com' },
  { name: 'wikipedia', shortcut: 'wp', host: 'en.wikipedia.org' },
  { name: 'arxiv', shortcut: 'arx', host: 'export.arxiv.org' },
] as const;

/**
 * settings.yml: JSON format on (Open WebUI and the API read it), limiter on, autocomplete off (it
 * would send every keystroke to a search engine). The secret comes from SEARXNG_SECRET and Valkey's
 * URL, which carries its password, from SEARXNG_VALKEY_URL: nothing secret is in this file.
 */
export function renderSearxngSettings(platform: Platform, valkey?: Service): string {
  const settings: Record<string, unknown> = {
    use_default_settings: true,
    general: { instance_name: `${platform.domain} search`, enable_metrics: false },
    search: { safe_search: 0, autocomplete: '', default_lang: 'en', formats: ['html', 'json'] },
    server: { limiter: valkey !== undefined, image_proxy: true, http_protocol_version: '1.1' },
    outgoing: { request_timeout: 6.0, max_request_timeout: 15.0 },
    engines: SEARXNG_ENGINES.map((e) => ({ name: e.name, engine: e.name, shortcut: e.shortcut, disabled: false })),
  };
  return generatedHeader('SearxNG settings') + toYaml(settings);
}

/** limiter.toml: rate-limit strangers, never the homelab's own callers. */
export function renderSearxngLimiter(platform: Platform): string {
  const internal = [...PRIVATE_RANGES, ...(platform.config.exposure === 'tailnet' ? [CGNAT_RANGE] : [])];
  return [
    generatedHeader('SearxNG limiter').trimEnd(),
    '[botdetection.ip_limit]',
    'link_token = true',
    '',
    '[botdetection.ip_lists]',
    `pass_ip = [${internal.map((c) => `"${c}"`).join(', ')}]`,
    '',
  ].join('\n');
}
