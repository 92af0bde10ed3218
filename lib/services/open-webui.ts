import { Platform } from '../model/platform.js';
import { Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import { defineService } from './descriptor.js';
import { catalogProps, type CatalogServiceProps } from './common.js';
import type { EnvValue } from '../model/values.js';
import { LITELLM_PORT, litellmApiKey } from './litellm.js';
import { QDRANT_PORT, qdrantApiKey } from './qdrant.js';
import { SEARXNG_PORT } from './searxng.js';

export const OPEN_WEBUI_PORT = 8080;

export interface OpenWebUiProps extends CatalogServiceProps {
  readonly litellm: Service;
  readonly searxng?: Service;
  /** Where document vectors (RAG) go when Qdrant is on. @default the SQLite-backed Chroma inside its data volume */
  readonly qdrant?: Service;
}

/**
 * Open WebUI: the chat UI, talking to LiteLLM only (not to Ollama), searching through SearxNG.
 *
 * Its first account would become admin, and it is routed publicly: instead the admin is created
 * at start from `acmeEmail` and a secret password, sign-up is off, and the owner invites users
 * (Admin Panel > Users > +). Document embeddings (RAG) use the local Ollama embedding model
 * through LiteLLM; the image's default would download a sentence-transformers model from
 * Hugging Face at start, and OFFLINE_MODE keeps it from fetching models or checking for updates.
 */
export class OpenWebUi extends Service {
  constructor(stack: Stack, props: OpenWebUiProps) {
    const platform = Platform.of(stack);
    const searxng = props.searxng;
    const embedding = platform.config.models.ollama.find((m) => m.mode === 'embedding');
    const rag: Record<string, EnvValue> = embedding
      ? {
          RAG_EMBEDDING_ENGINE: 'openai',
          RAG_EMBEDDING_MODEL: embedding.alias ?? embedding.name,
          RAG_OPENAI_API_BASE_URL: (r) => r.url(props.litellm, LITELLM_PORT, '/v1'),
          RAG_OPENAI_API_KEY: litellmApiKey(platform),
          OFFLINE_MODE: 'true',
        }
      : {};
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
          WEBUI_ADMIN_EMAIL: platform.config.acmeEmail,
          WEBUI_ADMIN_NAME: platform.config.basicAuthUser,
          WEBUI_ADMIN_PASSWORD: platform.secret('OPEN_WEBUI_ADMIN_PASSWORD', {
            generate: 'password',
            readOnce: true,
            description: `password of the Open WebUI admin (${platform.config.acmeEmail}), created at first start`,
          }),
          ENABLE_SIGNUP: 'false',
          DEFAULT_USER_ROLE: 'pending',
          ...rag,
          ...(searxng
            ? {
                ENABLE_WEB_SEARCH: 'true',
                WEB_SEARCH_ENGINE: 'searxng',
                SEARXNG_QUERY_URL: (r) => `${r.url(searxng, SEARXNG_PORT, '/search')}?q=<query>`,
              }
            : {}),
          // backend/open_webui/config.py ("Vector Database"): VECTOR_DB selects the store, QDRANT_URI and QDRANT_API_KEY reach it.
          ...(props.qdrant
            ? { VECTOR_DB: 'qdrant', QDRANT_URI: (r) => r.url(props.qdrant as Service, QDRANT_PORT), QDRANT_API_KEY: qdrantApiKey(platform) }
            : {}),
          // The user's rule: no telemetry leaves the homelab.
          ANONYMIZED_TELEMETRY: 'false',
          DO_NOT_TRACK: 'true',
          SCARF_NO_ANALYTICS: 'true',
          ENABLE_VERSION_UPDATE_CHECK: 'false',
        },
        ports: [{ port: OPEN_WEBUI_PORT, name: 'http', authentication: 'password' }],
        volumes: [{ name: 'open-webui-data', mountPath: '/app/backend/data', sizeGb: 10, holds: 'state' }],
        healthCheck: { http: { port: OPEN_WEBUI_PORT, path: '/health' }, via: 'curl', startPeriodSeconds: 60 },
        resources: { cpus: 2, memoryGb: 2 },
        egress: embedding ? [] : [{ host: 'huggingface.co', why: 'RAG embedding model download (models.ollama has no embedding model)' }],
        // 1-3 replicas at 70% CPU: room for a busy evening without holding idle pods.
        scaling: { minReplicas: 1, maxReplicas: 3, cpuPercent: 70 },
      }),
    );
    this.connect(props.litellm, { ordering: true });
    if (searxng) this.connect(searxng);
    if (props.qdrant) this.connect(props.qdrant, { ordering: true });
  }
}

/** Open WebUI at `chat`, behind its own login; searches through SearxNG when there is one. */
export const openWebui = defineService({
  name: 'open-webui',
  image: 'ghcr.io/open-webui/open-webui:v0.6.22',
  stack: 'chat',
  zone: 'edge',
  on: 'server',
  requires: ['litellm'],
  uses: ['searxng', 'qdrant'],
  routes: [{ host: 'chat', port: OPEN_WEBUI_PORT, auth: 'login', rank: 1 }],
  create: ({ stack, props, built }) => {
    const litellm = built('litellm');
    return litellm ? new OpenWebUi(stack, { ...props, litellm, searxng: built('searxng'), qdrant: built('qdrant') }) : undefined;
  },
});
