import type { ConfigPath } from '../config/errors.js';
import type { Platform } from '../model/platform.js';
import type { Finding } from './finding.js';
import { compareText } from '../output/order.js';

/** A destination outside the homelab, who talks to it and why. */
export interface Egress {
  readonly host: string;
  readonly from: string;
  readonly why: string;
  readonly path: ConfigPath;
}

/**
 * Hosted inference and CDN endpoints the owner ruled out (no Cloudflare, no hosted AI): matched
 * against the host and its parent domains.
 */
export const FORBIDDEN_DESTINATIONS: Readonly<Record<string, string>> = {
  'cloudflare.com': 'Cloudflare',
  'cloudflare-dns.com': 'Cloudflare DNS',
  'one.one.one.one': 'Cloudflare DNS',
  '1.1.1.1': 'Cloudflare DNS',
  '1.0.0.1': 'Cloudflare DNS',
  'workers.dev': 'Cloudflare Workers',
  'pages.dev': 'Cloudflare Pages',
  'openai.com': 'OpenAI (hosted inference)',
  'anthropic.com': 'Anthropic (hosted inference)',
  'generativelanguage.googleapis.com': 'Gemini (hosted inference)',
  'aiplatform.googleapis.com': 'Vertex AI (hosted inference)',
  'api-inference.huggingface.co': 'Hugging Face Inference API',
  'router.huggingface.co': 'Hugging Face Inference Providers',
  'openrouter.ai': 'OpenRouter (hosted inference)',
  'api.groq.com': 'Groq (hosted inference)',
  'api.together.xyz': 'Together AI (hosted inference)',
  'api.mistral.ai': 'Mistral (hosted inference)',
  'api.cohere.com': 'Cohere (hosted inference)',
  'replicate.com': 'Replicate (hosted inference)',
  'jsdelivr.net': 'jsDelivr CDN',
  'unpkg.com': 'unpkg CDN',
  'cdnjs.com': 'cdnjs CDN',
};

function hostOf(value: string): string | undefined {
  const match = /^[a-z][a-z0-9+.-]*:\/\/([^/:?#\s]+)/i.exec(value.trim());
  return match?.[1]?.toLowerCase();
}

/** Every destination outside the homelab the platform talks to, sorted by host. */
export function egressReport(platform: Platform): Egress[] {
  const out: Egress[] = [];
  const local = (host: string) => host === platform.domain || host.endsWith(`.${platform.domain}`);
  for (const service of platform.services) {
    for (const e of service.egress) if (!local(e.host)) out.push({ host: e.host, from: service.name, why: e.why, path: e.configPath ?? service.configPath });
  }
  for (const [name, app] of Object.entries(platform.config.apps)) {
    for (const [key, value] of Object.entries(app.env)) {
      const host = hostOf(value);
      if (host && !local(host)) out.push({ host, from: name, why: `apps.${name}.env.${key}`, path: ['apps', name, 'env', key] });
    }
  }
  for (const [name, settings] of Object.entries(platform.config.services)) {
    for (const [key, value] of Object.entries(settings?.env ?? {})) {
      const host = hostOf(value);
      if (host && !local(host)) out.push({ host, from: name, why: `services.${name}.env.${key}`, path: ['services', name, 'env', key] });
    }
  }
  const seen = new Set<string>();
  return out
    .filter((e) => {
      const key = `${e.host}\0${e.from}\0${e.why}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => compareText(a.host, b.host) || compareText(a.from, b.from));
}

export function forbiddenDestination(host: string): string | undefined {
  for (const [domain, what] of Object.entries(FORBIDDEN_DESTINATIONS)) if (host === domain || host.endsWith(`.${domain}`)) return what;
  return undefined;
}

export function sovereignty(platform: Platform): Finding[] {
  return egressReport(platform).flatMap((e) => {
    const what = forbiddenDestination(e.host);
    if (!what) return [];
    return [
      {
        rule: 'sovereignty-third-party',
        severity: 'error' as const,
        path: [...e.path],
        message: `${e.from} would talk to ${e.host} (${what}) for ${e.why}: third-party inference and CDNs are ruled out`,
        fix: 'use the self-hosted equivalent (LiteLLM/Ollama for inference, files served by Caddy, the platform\'s own DNS) or remove it',
      },
    ];
  });
}
