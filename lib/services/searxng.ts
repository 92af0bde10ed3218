import { Platform } from '../model/platform.js';
import { Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import { renderSearxngLimiter, renderSearxngSettings, SEARXNG_ENGINES } from '../configs/searxng.js';
import { defineService } from './descriptor.js';
import { catalogProps, type CatalogServiceProps } from './common.js';
import { valkeyUrl, type Valkey } from './valkey.js';
import type { EnvValue } from '../model/values.js';

export const SEARXNG_PORT = 8080;
/** The searxng account of the image (container/base.yml lines 19-26 at the pinned commit). */
export const SEARXNG_UID = 977;

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
        healthCheck: { http: { port: SEARXNG_PORT, path: '/healthz' }, via: 'python' },
        resources: { cpus: 1, memoryGb: 1 },
        // At the pinned commit the entrypoint no longer switches users (container/entrypoint.sh
        // ends in `exec granian`, line 130) and the image sets none (container/base.yml has no
        // run-as), so it would serve as root. Run as the image's own searxng account (uid/gid 977,
        // base.yml lines 19-26), which owns /etc/searxng and /var/cache/searxng (lines 43-55):
        // the entrypoint then chowns nothing (setup_ownership only chowns as root, line 55) and
        // needs no capability at all.
        security: { user: `${SEARXNG_UID}:${SEARXNG_UID}`, capDrop: ['ALL'] },
        egress: SEARXNG_ENGINES.map((e) => ({ host: e.host, why: `metasearch (${e.name})` })),
      }),
    );
    if (props.valkey) this.connect(props.valkey, { ordering: true });
  }
}

/** SearxNG: private metasearch at `search`; its limiter keeps state in Valkey when there is one. */
export const searxng = defineService({
  name: 'searxng',
  image: 'searxng/searxng:2025.9.20-57ef342',
  stack: 'search',
  zone: 'services',
  on: 'server',
  uses: ['valkey'],
  routes: [{ host: 'search', port: SEARXNG_PORT, auth: 'none', rank: 3 }],
  create: ({ stack, props, built }) => new Searxng(stack, { ...props, valkey: built<Valkey>('valkey') }),
});
