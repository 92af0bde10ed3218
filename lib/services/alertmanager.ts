import type { Prometheus } from './prometheus.js';
import { Platform } from '../model/platform.js';
import { Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import { renderAlertmanagerConfig } from '../configs/alertmanager.js';
import { defineService } from './descriptor.js';
import { catalogProps, type CatalogServiceProps } from './common.js';
import type { Ntfy } from './ntfy.js';

export interface AlertmanagerProps extends CatalogServiceProps {
  /** Where notifications go. */
  readonly ntfy: Ntfy;
}

/** Where the entrypoint puts ntfy's token for `credentials_file`. */
export const NTFY_TOKEN_FILE = '/tmp/ntfy-token';

/** Alertmanager: groups alerts and pushes them to the self-hosted ntfy. */
export class Alertmanager extends Service {
  constructor(stack: Stack, props: AlertmanagerProps) {
    const platform = Platform.of(stack);
    super(
      stack,
      'alertmanager',
      catalogProps('alertmanager', props, {
        description: 'Routes alerts to ntfy (Alertmanager)',
        // Alertmanager reads credentials from files only, and secrets reach containers as
        // environment: the token is written to a private file in /tmp before it starts.
        entrypoint: ['/bin/sh', '-c', `umask 077 && printf '%s' "$NTFY_TOKEN" > ${NTFY_TOKEN_FILE} && exec /bin/alertmanager "$@"`, 'alertmanager'],
        command: ['--config.file=/etc/alertmanager/alertmanager.yml', '--storage.path=/alertmanager'],
        env: { NTFY_TOKEN: props.ntfy.publisherToken },
        ports: [{ port: 9093, name: 'http' }],
        volumes: [{ name: 'alertmanager-data', mountPath: '/alertmanager', sizeGb: 1, holds: 'state' }],
        configFiles: [
          { name: 'alertmanager.yml', mountPath: '/etc/alertmanager/alertmanager.yml', content: (r) => renderAlertmanagerConfig(platform, r, props.ntfy, NTFY_TOKEN_FILE) },
        ],
        healthCheck: { http: { port: 9093, path: '/-/healthy' } },
        resources: { cpus: 0.5, memoryGb: 0.5 },
        security: { nonRootUid: 65534 },
        metrics: { port: 9093 },
      }),
    );
    this.connect(props.ntfy);
  }
}

/** Alertmanager: sends Prometheus's alerts to ntfy. */
export const alertmanager = defineService({
  name: 'alertmanager',
  image: 'prom/alertmanager:v0.28.1',
  stack: 'monitoring',
  zone: 'monitoring',
  on: 'server',
  requires: ['ntfy'],
  uses: ['prometheus'],
  adminWithoutLogin: true,
  create: ({ stack, props, built }) => {
    const ntfy = built<Ntfy>('ntfy');
    if (!ntfy) return undefined;
    const service = new Alertmanager(stack, { ...props, ntfy });
    built<Prometheus>('prometheus')?.alertTo(service);
    return service;
  },
});
