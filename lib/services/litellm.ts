import { Platform } from '../model/platform.js';
import type { Secret } from '../model/secret.js';
import { Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import { interpolate, type EnvValue } from '../model/values.js';
import { renderLitellmConfig } from '../configs/litellm.js';
import { catalogProps, type CatalogServiceProps } from './common.js';

export const LITELLM_PORT = 4000;

/** The gateway's master key: LiteLLM reads it, its clients (Open WebUI, apps) present it. */
export function litellmApiKey(platform: Platform): Secret {
  return platform.secret('LITELLM_API_KEY', { generate: 'password', prefix: 'sk-', description: 'LiteLLM master key (must start with sk-)' });
}

export interface LitellmProps extends CatalogServiceProps {
  readonly ollama: Service;
  /** Spend logs, when `litellm.spendLogs` is on. @default none */
  readonly postgres?: Service;
  /** Response cache, when `litellm.cache` is on. @default none */
  readonly valkey?: Service;
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
      const user = platform.secret('PG_USER', { generate: 'user', description: 'Postgres superuser name' });
      const password = platform.secret('PG_PASSWORD', { generate: 'password', description: 'Postgres superuser password' });
      const postgres = props.postgres;
      env.DATABASE_URL = interpolate`postgresql://${user}:${password}@${(r) => { const a = r.address(postgres, 5432); return `${a.host}:${a.port}`; }}/litellm`;
    }
    if (props.valkey) {
      const valkey = props.valkey;
      env.REDIS_HOST = (r) => r.address(valkey, 6379).host;
      env.REDIS_PORT = (r) => String(r.address(valkey, 6379).port);
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
            content: (r) => renderLitellmConfig(platform, r, { ollama: props.ollama, cache: props.valkey !== undefined }),
          },
        ],
        healthCheck: { http: { port: LITELLM_PORT, path: '/health/liveliness' }, via: 'python', startPeriodSeconds: 60 },
        resources: { cpus: 2, memoryGb: 2 },
        // Seed 004: 1-3 replicas at 70% CPU.
        scaling: { minReplicas: 1, maxReplicas: 3, cpuPercent: 70 },
      }),
    );
    this.connect(props.ollama, { ordering: true });
    if (props.postgres) this.connect(props.postgres, { ordering: true });
    if (props.valkey) this.connect(props.valkey, { ordering: true });
  }
}
