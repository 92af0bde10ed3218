import { Platform } from '../model/platform.js';
import type { Secret } from '../model/secret.js';
import { Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import type { EnvValue } from '../model/values.js';
import { renderLitellmConfig } from '../configs/litellm.js';
import { defineService } from './descriptor.js';
import { catalogProps, type CatalogServiceProps } from './common.js';
import { LANGFUSE_PORT, langfuseKeys } from './langfuse.js';
import type { Ollama } from './ollama.js';
import { POSTGRES_PORT, type Postgres } from './postgres.js';
import { VALKEY_PORT, type Valkey } from './valkey.js';

export const LITELLM_PORT = 4000;

/** The gateway's master key: LiteLLM reads it, its clients (Open WebUI, apps) present it. */
export function litellmApiKey(platform: Platform): Secret {
  return platform.secret('LITELLM_API_KEY', { generate: 'password', prefix: 'sk-', description: 'LiteLLM master key (must start with sk-)' });
}

export interface LitellmProps extends CatalogServiceProps {
  /** The Ollama it fronts; on the CPU its thread count goes with every request. */
  readonly ollama: Ollama;
  /** Spend logs, when `litellm.spendLogs` is on. @default none */
  readonly postgres?: Postgres;
  /** Response cache, when `litellm.cache` is on. @default none */
  readonly valkey?: Valkey;
  /** Where every request's trace goes, when the langfuse service is on. @default no traces */
  readonly langfuse?: Service;
}

/** LiteLLM: the OpenAI-compatible gateway in front of Ollama, with aliases and fallbacks. */
export class Litellm extends Service {
  constructor(stack: Stack, props: LitellmProps) {
    const platform = Platform.of(stack);
    const env: Record<string, EnvValue> = {
      LITELLM_MASTER_KEY: litellmApiKey(platform),
      LITELLM_LOG: 'INFO',
      // The model cost map ships in the image; by default LiteLLM fetches it from GitHub at start.
      LITELLM_LOCAL_MODEL_COST_MAP: 'True',
    };
    if (props.postgres) {
      // Its own database and role. The parts, not a URL: LiteLLM's proxy_cli (run_server) builds
      // DATABASE_URL from DATABASE_HOST/USERNAME/PASSWORD/NAME with urllib.parse.quote_plus, so a
      // password with / + = @ : % reaches Prisma intact.
      const postgres = props.postgres;
      const db = postgres.database('litellm', { configPath: ['litellm', 'spendLogs'], builtIn: true });
      env.DATABASE_HOST = (r) => { const a = r.address(postgres, POSTGRES_PORT); return `${a.host}:${a.port}`; };
      env.DATABASE_USERNAME = db.role;
      env.DATABASE_PASSWORD = db.password;
      env.DATABASE_NAME = db.name;
    }
    if (props.valkey) {
      const valkey = props.valkey;
      env.REDIS_HOST = (r) => r.address(valkey, VALKEY_PORT).host;
      env.REDIS_PORT = (r) => String(r.address(valkey, VALKEY_PORT).port);
      env.REDIS_PASSWORD = valkey.password;
    }
    if (props.langfuse) {
      // litellm/integrations/langfuse/langfuse.py (LangFuseLogger) reads these three; without
      // LANGFUSE_HOST it would send to cloud.langfuse.com.
      const langfuse = props.langfuse;
      const keys = langfuseKeys(platform);
      env.LANGFUSE_PUBLIC_KEY = keys.publicKey;
      env.LANGFUSE_SECRET_KEY = keys.secretKey;
      env.LANGFUSE_HOST = (r) => r.url(langfuse, LANGFUSE_PORT);
    }
    super(
      stack,
      'litellm',
      catalogProps('litellm', props, {
        description: 'OpenAI-compatible gateway over Ollama (LiteLLM)',
        command: ['--config', '/app/config.yaml', '--port', String(LITELLM_PORT)],
        env,
        ports: [{ port: LITELLM_PORT, name: 'api', authentication: 'token' }],
        configFiles: [
          {
            name: 'config.yaml',
            mountPath: '/app/config.yaml',
            content: (r) => renderLitellmConfig(platform, r, { ollama: props.ollama, cache: props.valkey !== undefined, traces: props.langfuse !== undefined }),
          },
        ],
        healthCheck: { http: { port: LITELLM_PORT, path: '/health/liveliness' }, via: 'python', startPeriodSeconds: 60 },
        resources: { cpus: 2, memoryGb: 2 },
        // 1-3 replicas at 70% CPU: room for a busy evening without holding idle pods.
        scaling: { minReplicas: 1, maxReplicas: 3, cpuPercent: 70 },
      }),
    );
    this.connect(props.ollama, { ordering: true });
    if (props.postgres) this.connect(props.postgres, { ordering: true });
    if (props.valkey) this.connect(props.valkey, { ordering: true });
    // Traces are sent in the background and dropped while Langfuse is down: no need to wait for it.
    if (props.langfuse) this.connect(props.langfuse);
  }
}

/** LiteLLM: the gateway over Ollama; spend logs in Postgres and a cache in Valkey when the config asks; traces to Langfuse when it is on. */
export const litellm = defineService({
  name: 'litellm',
  image: 'ghcr.io/berriai/litellm:v1.79.1-stable',
  stack: 'llm',
  zone: 'edge',
  on: 'server',
  requires: ['ollama'],
  uses: ['postgres', 'valkey', 'langfuse'],
  create: ({ stack, props, built, config }) => {
    const ollama = built<Ollama>('ollama');
    if (!ollama) return undefined;
    return new Litellm(stack, {
      ...props,
      ollama,
      postgres: config.litellm.spendLogs ? built<Postgres>('postgres') : undefined,
      valkey: config.litellm.cache ? built<Valkey>('valkey') : undefined,
      langfuse: built('langfuse'),
    });
  },
});
