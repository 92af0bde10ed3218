import { Platform } from '../model/platform.js';
import { Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import { renderSearxngLimiter, renderSearxngSettings, SEARXNG_ENGINES } from '../configs/searxng.js';
import { catalogProps, type CatalogServiceProps } from './common.js';
import { valkeyUrl, type Valkey } from './valkey.js';
import type { EnvValue } from '../model/values.js';

export const SEARXNG_PORT = 8080;

export interface SearxngProps extends CatalogServiceProps {
  /** Limiter and cache backend. @default none (limiter state in memory) */
  readonly valkey?: Valkey;
}

/** SearxNG: private metasearch for Open WebUI and the apps (JSON format on, limiter on). */
export class Searxng extends Service {
  constructor(stack: Stack, props: SearxngProps) {
    const platform = Platform.of(stack);
    const env: Record<string, EnvValue> = {
      SEARXNG_BASE_URL: `https://${platform.fqdn('search')}/`,
      SEARXNG_SECRET: platform.secret('SEARXNG_SECRET', { generate: 'hex32', description: 'SearxNG secret key' }),
    };
    // SearxNG reads valkey.url from SEARXNG_VALKEY_URL ahead of settings.yml (searx/settings_defaults.py),
    // so the password stays out of the rendered file.
    if (props.valkey) env.SEARXNG_VALKEY_URL = valkeyUrl(props.valkey, 'valkey');
    super(
      stack,
      'searxng',
      catalogProps('searxng', props, {
        description: 'Private metasearch (SearxNG)',
        env,
        ports: [{ port: SEARXNG_PORT, name: 'http' }],
        configFiles: [
          { name: 'settings.yml', mountPath: '/etc/searxng/settings.yml', content: () => renderSearxngSettings(platform, props.valkey) },
          { name: 'limiter.toml', mountPath: '/etc/searxng/limiter.toml', content: () => renderSearxngLimiter(platform) },
        ],
        // Some 2025 images shipped without wget; SearxNG always has its Python.
        healthCheck: { http: { port: SEARXNG_PORT, path: '/healthz' }, via: 'python' },
        resources: { cpus: 1, memoryGb: 1 },
        security: { capDrop: ['ALL'], capAdd: ['CHOWN', 'SETGID', 'SETUID'] },
        egress: SEARXNG_ENGINES.map((e) => ({ host: e.host, why: `metasearch (${e.name})` })),
      }),
    );
    if (props.valkey) this.connect(props.valkey, { ordering: true });
  }
}
