import type { Platform } from '../model/platform.js';
import type { Service } from '../model/service.js';
import type { Resolver } from '../model/values.js';
import { generatedHeader, toYaml } from '../output/yaml.js';

/**
 * alertmanager.yml: every alert to ntfy's topic. ntfy's templating (`tpl=yes`) turns
 * Alertmanager's webhook JSON into a readable title and message.
 */
export function renderAlertmanagerConfig(platform: Platform, resolve: Resolver, ntfy: Service, tokenFile: string): string {
  const params = new URLSearchParams({
    tpl: 'yes',
    t: '{{.status}}: {{.commonLabels.alertname}}',
    m: '{{range .alerts}}{{.annotations.summary}}\n{{end}}',
  });
  const url = `${resolve.url(ntfy, 80, `/${platform.config.monitoring.ntfyTopic}`)}?${params.toString()}`;
  const config = {
    route: {
      receiver: 'ntfy',
      group_by: ['alertname', 'node'],
      group_wait: '30s',
      group_interval: '5m',
      repeat_interval: '4h',
    },
    receivers: [
      {
        name: 'ntfy',
        // ntfy denies anonymous publishing: Alertmanager sends its access token.
        webhook_configs: [{ url, send_resolved: true, http_config: { authorization: { type: 'Bearer', credentials_file: tokenFile } } }],
      },
    ],
  };
  return generatedHeader('Alertmanager config') + toYaml(config);
}
