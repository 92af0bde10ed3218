import type { Platform } from '../model/platform.js';
import { generatedHeader, toYaml } from '../output/yaml.js';

/**
 * Loki's config: the single-binary filesystem setup of the image's own `local-config.yaml`
 * (same schema, so existing data stays readable), plus what that default leaves out: logs are
 * deleted after `monitoring.retentionDays` (the compactor applies `retention_period`), and usage
 * statistics are not reported to Grafana Labs (`analytics.reporting_enabled`, on by default).
 */
export function renderLokiConfig(platform: Platform): string {
  const retentionHours = platform.config.monitoring.retentionDays * 24;
  const config = {
    auth_enabled: false,
    server: { http_listen_port: 3100, grpc_listen_port: 9096, log_level: 'warn' },
    common: {
      instance_addr: '127.0.0.1',
      path_prefix: '/loki',
      storage: { filesystem: { chunks_directory: '/loki/chunks', rules_directory: '/loki/rules' } },
      replication_factor: 1,
      ring: { kvstore: { store: 'inmemory' } },
    },
    schema_config: {
      configs: [{ from: '2020-10-24', store: 'tsdb', object_store: 'filesystem', schema: 'v13', index: { prefix: 'index_', period: '24h' } }],
    },
    limits_config: { retention_period: `${retentionHours}h` },
    compactor: { working_directory: '/loki/compactor', retention_enabled: true, delete_request_store: 'filesystem' },
    analytics: { reporting_enabled: false },
  };
  return generatedHeader('Loki config') + toYaml(config);
}
