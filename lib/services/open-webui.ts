import { Platform } from '../model/platform.js';
import { Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import { catalogProps, type CatalogServiceProps } from './common.js';
import { LITELLM_PORT, litellmApiKey } from './litellm.js';
import { SEARXNG_PORT } from './searxng.js';

export interface OpenWebUiProps extends CatalogServiceProps {
  readonly litellm: Service;
  readonly searxng?: Service;
}

/** Open WebUI: the chat UI, talking to LiteLLM only (not to Ollama), searching through SearxNG. */
export class OpenWebUi extends Service {
  constructor(stack: Stack, props: OpenWebUiProps) {
    const platform = Platform.of(stack);
    const searxng = props.searxng;
    super(
      stack,
      'open-webui',
      catalogProps('open-webui', props, {
        description: 'Chat UI (Open WebUI) over the LiteLLM gateway',
        env: {
          OPENAI_API_BASE_URL: (r) => r.url(props.litellm, LITELLM_PORT, '/v1'),
          OPENAI_API_KEY: litellmApiKey(platform),
          ENABLE_OLLAMA_API: 'false',
          WEBUI_URL: `https://${platform.fqdn('chat')}`,
          WEBUI_SECRET_KEY: platform.secret('WEBUI_SECRET_KEY', { generate: 'password64', description: 'Open WebUI session signing key' }),
          ...(searxng
            ? {
                ENABLE_WEB_SEARCH: 'true',
                WEB_SEARCH_ENGINE: 'searxng',
                SEARXNG_QUERY_URL: (r) => `${r.url(searxng, SEARXNG_PORT, '/search')}?q=<query>`,
              }
            : {}),
          // The user's rule: no telemetry leaves the homelab.
          ANONYMIZED_TELEMETRY: 'false',
          DO_NOT_TRACK: 'true',
          SCARF_NO_ANALYTICS: 'true',
        },
        ports: [{ port: 8080, name: 'http', authentication: 'password' }],
        volumes: [{ name: 'open-webui-data', mountPath: '/app/backend/data', sizeGb: 10 }],
        healthCheck: { http: { port: 8080, path: '/health' }, via: 'curl', startPeriodSeconds: 60 },
        resources: { cpus: 2, memoryGb: 2 },
        // Seed 004: 1-3 replicas at 70% CPU.
        scaling: { minReplicas: 1, maxReplicas: 3, cpuPercent: 70 },
      }),
    );
    this.connect(props.litellm, { ordering: true });
    if (searxng) this.connect(searxng);
  }
}
