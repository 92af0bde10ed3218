import type { Platform } from '../model/platform.js';
import type { Service } from '../model/service.js';
import type { Resolver } from '../model/values.js';
import { NAME_LABEL } from '../k3s/names.js';
import { generatedHeader, toYaml } from '../output/yaml.js';

interface ScrapeTargets {
  readonly scraped: readonly Service[];
  readonly alertmanager?: Service;
  readonly blackbox?: Service;
}

/** prometheus.yml: one job per scraped service, one target per instance labelled with its node. */
export function renderPrometheusConfig(platform: Platform, resolve: Resolver, targets: ScrapeTargets): string {
  const jobs: Record<string, unknown>[] = [{ job_name: 'prometheus', static_configs: [{ targets: ['localhost:9090'], labels: { node: resolve.node.name } }] }];
  for (const service of [...targets.scraped].sort((a, b) => a.name.localeCompare(b.name))) {
    const metrics = service.metrics;
    if (!metrics) continue;
    const job: Record<string, unknown> = { job_name: service.name, ...(metrics.path !== '/metrics' ? { metrics_path: metrics.path } : {}) };
    if (resolve.target === 'k3s' && service.perNode) {
      // DaemonSet pods have no stable address: find them through the API, label each with its node.
      job.kubernetes_sd_configs = [{ role: 'pod', namespaces: { names: [service.zone.namespace] }, selectors: [{ role: 'pod', label: `${NAME_LABEL}=${service.name}` }] }];
      job.relabel_configs = [
        { source_labels: ['__meta_kubernetes_pod_container_port_number'], regex: String(metrics.port), action: 'keep' },
        { source_labels: ['__meta_kubernetes_pod_node_name'], target_label: 'node' },
      ];
    } else {
      const instances = resolve.instances(service, metrics.port);
      job.static_configs = instances.map((i) => ({ targets: [`${i.host}:${i.port}`], labels: { node: i.node.name } }));
    }
    jobs.push(job);
  }
  if (targets.blackbox) {
    const blackbox = resolve.address(targets.blackbox, 9115);
    jobs.push({
      job_name: 'sites',
      metrics_path: '/probe',
      params: { module: ['http_2xx'] },
      static_configs: [{ targets: [...platform.routes].map((r) => `https://${platform.fqdn(r.host)}${r.probePath ?? ''}`).sort() }],
      relabel_configs: [
        { source_labels: ['__address__'], target_label: '__param_target' },
        { source_labels: ['__param_target'], target_label: 'instance' },
        { target_label: '__address__', replacement: `${blackbox.host}:${blackbox.port}` },
      ],
    });
  }
  const config: Record<string, unknown> = {
    global: { scrape_interval: '30s', evaluation_interval: '30s' },
    ...(targets.alertmanager
      ? { alerting: { alertmanagers: [{ static_configs: [{ targets: [(() => { const a = resolve.address(targets.alertmanager, 9093); return `${a.host}:${a.port}`; })()] }] }] } }
      : {}),
    rule_files: ['/etc/prometheus/rules/*.yml'],
    scrape_configs: jobs,
  };
  return generatedHeader('Prometheus config') + toYaml(config);
}

interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly severity: 'warning' | 'critical';
  readonly summary: string;
}

/** The alert list of seed 001: host CPU/RAM, disk under 20% free, targets and containers down, GPU over 80 C, endpoints unreachable. */
export const ALERT_RULES: readonly AlertRule[] = [
  {
    alert: 'HostHighCpu',
    expr: '100 - (avg by (node) (rate(node_cpu_seconds_total{mode="idle"}[5m])) * 100) > 90',
    for: '10m',
    severity: 'warning',
    summary: 'CPU of {{ $labels.node }} above 90% for 10 minutes',
  },
  {
    alert: 'HostHighMemory',
    expr: '(1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes) * 100 > 90',
    for: '10m',
    severity: 'warning',
    summary: 'Memory of {{ $labels.node }} above 90% for 10 minutes',
  },
  {
    alert: 'HostDiskSpaceLow',
    expr: 'node_filesystem_avail_bytes{fstype!~"tmpfs|overlay|squashfs"} / node_filesystem_size_bytes{fstype!~"tmpfs|overlay|squashfs"} * 100 < 20',
    for: '10m',
    severity: 'warning',
    summary: 'Less than 20% free on {{ $labels.mountpoint }} of {{ $labels.node }}',
  },
  {
    alert: 'TargetDown',
    expr: 'up == 0',
    for: '5m',
    severity: 'critical',
    summary: '{{ $labels.job }} on {{ $labels.node }} is not answering scrapes',
  },
  {
    alert: 'ContainerDown',
    expr: 'time() - container_last_seen{name!=""} > 60',
    for: '5m',
    severity: 'critical',
    summary: 'Container {{ $labels.name }} on {{ $labels.node }} has not been seen for a minute',
  },
  {
    alert: 'GpuTemperatureHigh',
    expr: 'DCGM_FI_DEV_GPU_TEMP > 80',
    for: '5m',
    severity: 'warning',
    summary: 'GPU {{ $labels.gpu }} of {{ $labels.node }} is above 80 C',
  },
];

const ENDPOINT_RULE: AlertRule = {
  alert: 'EndpointUnreachable',
  expr: 'probe_success == 0',
  for: '5m',
  severity: 'critical',
  summary: '{{ $labels.instance }} is unreachable',
};

/** rules/alerts.yml */
export function renderAlertRules(withProbes: boolean): string {
  const rules = [...ALERT_RULES, ...(withProbes ? [ENDPOINT_RULE] : [])].map((r) => ({
    alert: r.alert,
    expr: r.expr,
    for: r.for,
    labels: { severity: r.severity },
    annotations: { summary: r.summary },
  }));
  return generatedHeader('Alert rules') + toYaml({ groups: [{ name: 'homelab', rules }] });
}

/** blackbox.yml: an HTTP probe that counts a basic-auth challenge (401) as up. */
export function renderBlackboxConfig(platform: Platform): string {
  const http: Record<string, unknown> = { preferred_ip_protocol: 'ip4', valid_status_codes: [200, 204, 301, 302, 401] };
  // Caddy's internal CA is not in the exporter's trust store.
  if (platform.tls === 'internal') http.tls_config = { insecure_skip_verify: true };
  return generatedHeader('Blackbox exporter config') + toYaml({ modules: { http_2xx: { prober: 'http', timeout: '10s', http } } });
}
