import { Platform } from '../model/platform.js';
import { Service, type Target } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import { renderGrafanaDashboardProvider, renderGrafanaDatasources } from '../configs/grafana.js';
import { DASHBOARDS, DASHBOARDS_PATH, dashboards, renderDashboard, type DashboardName, type GpuDashboardVendors } from '../configs/dashboards.js';
import { defineService } from './descriptor.js';
import { catalogProps, type CatalogServiceProps } from './common.js';

export interface GrafanaProps extends CatalogServiceProps {
  readonly prometheus: Service;
  readonly loki?: Service;
  /** Dashboards to provision: those whose exporters run on the platform. @default all of DASHBOARDS */
  readonly dashboards?: readonly DashboardName[];
  /** GPU exporters that run, whose series the GPU dashboard queries. @default NVIDIA's only */
  readonly gpuVendors?: GpuDashboardVendors;
}

export const GRAFANA_PORT = 3000;

/** Grafana: dashboards over Prometheus and Loki, provisioned from files; sign-up off. */
export class Grafana extends Service {
  constructor(stack: Stack, props: GrafanaProps) {
    const platform = Platform.of(stack);
    super(
      stack,
      'grafana',
      catalogProps('grafana', props, {
        description: 'Dashboards (Grafana) over Prometheus and Loki',
        env: {
          GF_SECURITY_ADMIN_USER: 'admin',
          GF_SECURITY_ADMIN_PASSWORD: platform.secret('GRAFANA_PASSWORD', { generate: 'password', readOnce: true, description: 'Grafana admin password' }),
          GF_USERS_ALLOW_SIGN_UP: 'false',
          GF_SERVER_ROOT_URL: `https://${platform.fqdn('grafana')}`,
          // Nothing phones home: usage reports, update and plugin-update checks (grafana.com),
          // avatars (gravatar.com) and the news feed are on by default.
          GF_ANALYTICS_REPORTING_ENABLED: 'false',
          GF_ANALYTICS_CHECK_FOR_UPDATES: 'false',
          GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES: 'false',
          GF_ANALYTICS_FEEDBACK_LINKS_ENABLED: 'false',
          GF_SECURITY_DISABLE_GRAVATAR: 'true',
          GF_NEWS_NEWS_FEED_ENABLED: 'false',
        },
        ports: [{ port: GRAFANA_PORT, name: 'http', authentication: 'password' }],
        volumes: [{ name: 'grafana-data', mountPath: '/var/lib/grafana', sizeGb: 5, holds: 'state' }],
        configFiles: [
          {
            name: 'provisioning/datasources/datasources.yaml',
            mountPath: '/etc/grafana/provisioning/datasources/datasources.yaml',
            content: (r) => renderGrafanaDatasources(r, props.prometheus, props.loki),
          },
          {
            name: 'provisioning/dashboards/platform.yaml',
            mountPath: '/etc/grafana/provisioning/dashboards/platform.yaml',
            content: () => renderGrafanaDashboardProvider(DASHBOARDS_PATH),
          },
          ...DASHBOARDS.filter((d) => (props.dashboards ?? DASHBOARDS).includes(d)).map((name) => ({
            name: `dashboards/${name}.json`,
            mountPath: `${DASHBOARDS_PATH}/${name}.json`,
            content: (r: { target: Target }) => renderDashboard(dashboards(r.target, props.gpuVendors)[name]),
          })),
        ],
        healthCheck: { http: { port: 3000, path: '/api/health' } },
        resources: { cpus: 1, memoryGb: 1 },
        security: { nonRootUid: 472 },
        metrics: { port: 3000 },
      }),
    );
    this.connect(props.prometheus);
    if (props.loki) this.connect(props.loki);
  }
}

/** Grafana at `grafana`, behind its own login, over Prometheus (and Loki when there is one). */
export const grafana = defineService({
  name: 'grafana',
  image: 'grafana/grafana:12.1.1',
  stack: 'monitoring',
  zone: 'monitoring',
  on: 'server',
  requires: ['prometheus'],
  uses: ['loki'],
  routes: [{ host: 'grafana', port: GRAFANA_PORT, auth: 'login', rank: 5 }],
  create: ({ stack, props, built, platform, isEnabled }) => {
    const prometheus = built('prometheus');
    if (!prometheus) return undefined;
    // A dashboard ships only when the exporter it reads runs on the platform.
    const hasGpu = (vendor: string) => platform.deployedNodes.some((n) => n.gpuVendor === vendor);
    const gpuVendors = { nvidia: hasGpu('nvidia') && isEnabled('gpu-exporter'), amd: hasGpu('amd') && isEnabled('amd-gpu-exporter') };
    const sources: Record<DashboardName, boolean> = {
      hosts: isEnabled('node-exporter'),
      containers: isEnabled('cadvisor'),
      gpus: gpuVendors.nvidia || gpuVendors.amd,
      'service-health': true,
      'ai-edge': isEnabled('caddy'),
    };
    const dashboards = DASHBOARDS.filter((d) => sources[d]);
    return new Grafana(stack, { ...props, prometheus, loki: built('loki'), dashboards, gpuVendors });
  },
});
