import { backupAlertRules } from './backup-alerts.js';
import type { Platform } from '../model/platform.js';
import type { Service, Target } from '../model/service.js';
import type { Resolver } from '../model/values.js';
import { NAME_LABEL } from '../k3s/names.js';
import { generatedHeader, toYaml } from '../output/yaml.js';
import { objectiveAlerts, type ObjectiveSources, type RecordingRule } from './slo.js';
import { compareText } from '../output/order.js';

interface ScrapeTargets {
  readonly scraped: readonly Service[];
  readonly alertmanager?: Service;
  readonly blackbox?: Service;
}

/** prometheus.yml: one job per scraped service, one target per instance labelled with its node. */
export function renderPrometheusConfig(platform: Platform, resolve: Resolver, targets: ScrapeTargets): string {
  const jobs: Record<string, unknown>[] = [{ job_name: 'prometheus', static_configs: [{ targets: ['localhost:9090'], labels: { node: resolve.node.name } }] }];
  for (const service of [...targets.scraped].sort((a, b) => compareText(a.name, b.name))) {
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

/** The series a `promtool test rules` case feeds in: series selector -> promtool value notation, one sample a minute. */
export type SeriesValues = Readonly<Record<string, string>>;

/**
 * How a rule proves itself: the series when the failure it names happens (it must fire, with
 * `labels`) and the series of a healthy system (it must stay silent). Part of every rule, so a rule
 * without its proof does not compile; `renderAlertRuleTests` turns the proofs into promtool tests.
 */
export interface AlertProof {
  readonly failing: SeriesValues;
  readonly healthy: SeriesValues;
  /** Labels of the alert that fires (besides alertname and severity). */
  readonly labels: Readonly<Record<string, string>>;
  /** When both cases are evaluated: long enough after the failure starts for `for` to have passed. */
  readonly evalAfter: string;
}

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly severity: 'warning' | 'critical';
  readonly summary: string;
  readonly proof: AlertProof;
}

/** The label cAdvisor gives a container's service, from the runtime's own container labels. */
export const CONTAINER_SERVICE_LABEL: Readonly<Record<Target, string>> = {
  // Compose (and Coolify, which runs compose) labels every container with its service name.
  compose: 'container_label_com_docker_compose_service',
  // The kubelet labels every container with its name in the pod; the charts name it after the service.
  k3s: 'container_label_io_kubernetes_container_name',
};

/** The homelab's alert list: host CPU/RAM, disk under 20% free, targets and containers down, GPU over 80 C. */
const HOST_RULES: readonly AlertRule[] = [
  {
    alert: 'HostHighCpu',
    expr: '100 - (avg by (node) (rate(node_cpu_seconds_total{mode="idle"}[5m])) * 100) > 90',
    for: '10m',
    severity: 'warning',
    summary: 'CPU of {{ $labels.node }} above 90% for 10 minutes',
    proof: {
      // Idle seconds per minute: 3 of 60 is 95% busy; 50 of 60 is 17% busy.
      failing: { 'node_cpu_seconds_total{mode="idle",cpu="0",node="homelab"}': '0+3x40' },
      healthy: { 'node_cpu_seconds_total{mode="idle",cpu="0",node="homelab"}': '0+50x40' },
      labels: { node: 'homelab' },
      evalAfter: '30m',
    },
  },
  {
    alert: 'HostHighMemory',
    expr: '(1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes) * 100 > 90',
    for: '10m',
    severity: 'warning',
    summary: 'Memory of {{ $labels.node }} above 90% for 10 minutes',
    proof: {
      failing: { 'node_memory_MemAvailable_bytes{node="homelab"}': '5x40', 'node_memory_MemTotal_bytes{node="homelab"}': '100x40' },
      healthy: { 'node_memory_MemAvailable_bytes{node="homelab"}': '40x40', 'node_memory_MemTotal_bytes{node="homelab"}': '100x40' },
      labels: { node: 'homelab' },
      evalAfter: '30m',
    },
  },
  {
    alert: 'HostDiskSpaceLow',
    expr: 'node_filesystem_avail_bytes{fstype!~"tmpfs|overlay|squashfs"} / node_filesystem_size_bytes{fstype!~"tmpfs|overlay|squashfs"} * 100 < 20',
    for: '10m',
    severity: 'warning',
    summary: 'Less than 20% free on {{ $labels.mountpoint }} of {{ $labels.node }}',
    proof: {
      failing: {
        'node_filesystem_avail_bytes{fstype="ext4",mountpoint="/",node="homelab"}': '10x40',
        'node_filesystem_size_bytes{fstype="ext4",mountpoint="/",node="homelab"}': '100x40',
      },
      healthy: {
        'node_filesystem_avail_bytes{fstype="ext4",mountpoint="/",node="homelab"}': '50x40',
        'node_filesystem_size_bytes{fstype="ext4",mountpoint="/",node="homelab"}': '100x40',
        // A full tmpfs is not a disk.
        'node_filesystem_avail_bytes{fstype="tmpfs",mountpoint="/run",node="homelab"}': '0x40',
        'node_filesystem_size_bytes{fstype="tmpfs",mountpoint="/run",node="homelab"}': '100x40',
      },
      labels: { fstype: 'ext4', mountpoint: '/', node: 'homelab' },
      evalAfter: '30m',
    },
  },
  {
    alert: 'TargetDown',
    expr: 'up == 0',
    for: '5m',
    severity: 'critical',
    summary: '{{ $labels.job }} on {{ $labels.node }} is not answering scrapes',
    proof: {
      failing: { 'up{job="node-exporter",node="rtx"}': '1x10 0x30' },
      healthy: { 'up{job="node-exporter",node="rtx"}': '1x40' },
      labels: { job: 'node-exporter', node: 'rtx' },
      evalAfter: '30m',
    },
  },
  {
    alert: 'GpuTemperatureHigh',
    expr: 'DCGM_FI_DEV_GPU_TEMP > 80',
    for: '5m',
    severity: 'warning',
    summary: 'GPU {{ $labels.gpu }} of {{ $labels.node }} is above 80 C',
    proof: {
      failing: { 'DCGM_FI_DEV_GPU_TEMP{gpu="0",node="rtx"}': '60x10 85x30' },
      healthy: { 'DCGM_FI_DEV_GPU_TEMP{gpu="0",node="rtx"}': '65x40' },
      labels: { gpu: '0', node: 'rtx' },
      evalAfter: '30m',
    },
  },
];

/**
 * The temperature alert of AMD GPUs, from AMD's Device Metrics Exporter (amd-gpu-exporter):
 * `gpu_edge_temperature` in C per `gpu_id` (docs/configuration/metricslist.md), the sensor that
 * matches DCGM's GPU temperature, at the same threshold.
 */
const AMD_GPU_TEMPERATURE_RULE: AlertRule = {
  alert: 'AmdGpuTemperatureHigh',
  expr: 'gpu_edge_temperature > 80',
  for: '5m',
  severity: 'warning',
  summary: 'AMD GPU {{ $labels.gpu_id }} of {{ $labels.node }} is above 80 C',
  proof: {
    failing: { 'gpu_edge_temperature{gpu_id="0",node="radeon"}': '60x10 85x30' },
    healthy: { 'gpu_edge_temperature{gpu_id="0",node="radeon"}': '65x40' },
    labels: { gpu_id: '0', node: 'radeon' },
    evalAfter: '30m',
  },
};

/** A routed site the blackbox exporter cannot reach through the edge. */
function endpointRule(site: string): AlertRule {
  return {
    alert: 'EndpointUnreachable',
    expr: 'probe_success == 0',
    for: '5m',
    severity: 'critical',
    summary: '{{ $labels.instance }} is unreachable',
    proof: {
      failing: { [`probe_success{job="sites",instance="${site}"}`]: '1x10 0x30' },
      healthy: { [`probe_success{job="sites",instance="${site}"}`]: '1x40' },
      labels: { job: 'sites', instance: site },
      evalAfter: '30m',
    },
  };
}

/**
 * A container the model runs that is not running. cAdvisor drops a container's series when it
 * stops, so "last seen long ago" has no sample to compare; instead each long-running service of
 * the model is expected on each of its nodes, and `absent()` fires for the one that is missing.
 * One-shot jobs (model pulls) and on-demand services (compose profiles) are not expected. While
 * cAdvisor itself is down on a node, TargetDown speaks for it instead.
 */
function containerDownRule(platform: Platform, target: Target): AlertRule | undefined {
  const label = CONTAINER_SERVICE_LABEL[target];
  const cadvisor = platform.service('cadvisor');
  if (!cadvisor) return undefined;
  const expected = platform.services
    .filter((s) => !s.oneShot && s.profile === undefined && !s.external)
    .flatMap((s) => s.nodes.filter((n) => n.deployed && cadvisor.nodes.includes(n)).map((n) => ({ service: s.name, node: n.name })))
    .sort((a, b) => compareText(a.node, b.node) || compareText(a.service, b.service));
  const [first] = expected;
  if (!first) return undefined;
  const absent = expected.map((e) => `absent(container_last_seen{node="${e.node}",${label}="${e.service}"})`).join('\n  or ');
  const series = (e: { service: string; node: string }) => `container_last_seen{node="${e.node}",${label}="${e.service}",name="${e.service}"}`;
  const cadvisorUp = Object.fromEntries([...new Set(expected.map((e) => e.node))].map((n) => [`up{job="cadvisor",node="${n}"}`, '1x40']));
  const oneShots = platform.services.filter((s) => s.oneShot && !s.external);
  return {
    alert: 'ContainerDown',
    expr: `label_replace(\n  (\n  ${absent}\n  ),\n  "service", "$1", "${label}", "(.*)"\n) and on (node) (up{job="cadvisor"} == 1)`,
    for: '5m',
    severity: 'critical',
    summary: '{{ $labels.service }} on {{ $labels.node }} is not running',
    proof: {
      failing: { ...Object.fromEntries(expected.map((e) => [series(e), e === first ? '1x10 _x30' : '1x40'])), ...cadvisorUp },
      healthy: {
        ...Object.fromEntries(expected.map((e) => [series(e), '1x40'])),
        ...cadvisorUp,
        // A one-shot that finished is gone from cAdvisor, as it should be.
        ...Object.fromEntries(oneShots.map((s) => [`container_last_seen{node="${s.nodes[0]?.name}",${label}="${s.name}",name="${s.name}"}`, '1x10 _x30'])),
      },
      labels: { node: first.node, [label]: first.service, service: first.service },
      evalAfter: '30m',
    },
  };
}

/** Every alert rule of `platform` for `target`, each with its proof. */
export function alertRules(platform: Platform, target: Target, sources: ObjectiveSources): AlertRule[] {
  const withProbes = sources.probes;
  const containerDown = containerDownRule(platform, target);
  const [site] = [...platform.routes].map((r) => `https://${platform.fqdn(r.host)}`).sort();
  return [
    ...HOST_RULES,
    ...(platform.service('amd-gpu-exporter') ? [AMD_GPU_TEMPERATURE_RULE] : []),
    ...(containerDown ? [containerDown] : []),
    ...(withProbes && site ? [endpointRule(site)] : []),
    ...objectiveAlerts(platform, sources),
    ...backupAlertRules(platform, target),
  ];
}

/**
 * rules/alerts.yml: the recording rules of the service levels (group `slo`, evaluated first, so
 * the alerts read this evaluation's values), then the alerts.
 */
export function renderAlertRules(rules: readonly AlertRule[], recordings: readonly RecordingRule[] = []): string {
  const rendered = rules.map((r) => ({
    alert: r.alert,
    expr: r.expr,
    for: r.for,
    labels: { severity: r.severity },
    annotations: { summary: r.summary },
  }));
  const groups = [
    ...(recordings.length > 0 ? [{ name: 'slo', rules: recordings.map((r) => ({ record: r.record, expr: r.expr, ...(r.labels ? { labels: r.labels } : {}) })) }] : []),
    { name: 'homelab', rules: rendered },
  ];
  return generatedHeader('Alert rules') + toYaml({ groups });
}

/**
 * A `promtool test rules` file for `rules` (read from `rulesFile`): per rule, one case where its
 * failure happens and the alert must fire with its labels and summary, and one healthy case where
 * it must stay silent.
 */
export function renderAlertRuleTests(rules: readonly AlertRule[], rulesFile: string): string {
  const series = (values: SeriesValues) => Object.entries(values).map(([s, v]) => ({ series: s, values: v }));
  const tests = rules.flatMap((r) => {
    const labels = { ...r.proof.labels, severity: r.severity };
    const summary = r.summary.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, name: string) => r.proof.labels[name] ?? '');
    return [
      {
        name: `${r.alert} fires`,
        interval: '1m',
        input_series: series(r.proof.failing),
        alert_rule_test: [{ eval_time: r.proof.evalAfter, alertname: r.alert, exp_alerts: [{ exp_labels: labels, exp_annotations: { summary } }] }],
      },
      {
        name: `${r.alert} stays silent when healthy`,
        interval: '1m',
        input_series: series(r.proof.healthy),
        alert_rule_test: [{ eval_time: r.proof.evalAfter, alertname: r.alert, exp_alerts: [] }],
      },
    ];
  });
  // Rules are evaluated every minute in the proofs (Prometheus itself evaluates every 30 s): the
  // input series move once a minute, every `for:` is a whole number of minutes, and promtool's
  // cost is per evaluation step.
  return toYaml({ rule_files: [rulesFile], evaluation_interval: '1m', tests });
}

/** Whether `expr` names the series `name` (as a whole metric name, not part of a longer one). */
function readsSeries(expr: string, name: string): boolean {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^a-zA-Z0-9_:])${escaped}($|[^a-zA-Z0-9_:])`).test(expr);
}

/** The recording rules whose series `expr` reads, and those they read in turn, in their order. */
export function recordingsReadBy(expr: string, recordings: readonly RecordingRule[]): RecordingRule[] {
  const needed = new Set<RecordingRule>();
  const pending = [expr];
  for (let text = pending.pop(); text !== undefined; text = pending.pop()) {
    for (const r of recordings) {
      if (needed.has(r) || !readsSeries(text, r.record)) continue;
      needed.add(r);
      pending.push(r.expr);
    }
  }
  return recordings.filter((r) => needed.has(r));
}

/** One rule's proof as `promtool test rules` reads it: a rules file and a test file beside it. */
export interface AlertRuleProof {
  readonly alert: string;
  /** The rules file: the rule and the recording rules it reads, rendered as in rules/alerts.yml. */
  readonly rules: string;
  /** The test file (its fires and stays-silent cases), reading the rules from `rulesFile`. */
  readonly tests: string;
}

/**
 * Each rule's proof, on its own. promtool evaluates every rule of the rules file at every step of
 * every test case, and its cost grows with that product; an alert reads only its input series and
 * the recorded series it names (no rule here reads ALERTS or another alert), so a rules file with
 * just the rule and those recording rules gives the rule the same values as the whole file does,
 * at a fraction of the cost. Proofs of configs that render the rule the same way are
 * byte-identical and need to run once.
 */
export function renderAlertRuleProofs(rules: readonly AlertRule[], recordings: readonly RecordingRule[], rulesFile: string): AlertRuleProof[] {
  for (const rule of rules) {
    // Prometheus writes each alert's state as ALERTS and ALERTS_FOR_STATE: reading them ties a rule to the others.
    const reads = ['ALERTS', 'ALERTS_FOR_STATE'].find((series) => readsSeries(rule.expr, series));
    if (reads) throw new Error(`alert ${rule.alert} reads ${reads}, the state of other alerts: its proof needs every alert of the file, not a file of its own`);
  }
  return rules.map((rule) => ({
    alert: rule.alert,
    rules: renderAlertRules([rule], recordingsReadBy(rule.expr, recordings)),
    tests: renderAlertRuleTests([rule], rulesFile),
  }));
}

/** blackbox.yml: an HTTP probe that counts a basic-auth challenge (401) as up. */
export function renderBlackboxConfig(platform: Platform): string {
  const http: Record<string, unknown> = { preferred_ip_protocol: 'ip4', valid_status_codes: [200, 204, 301, 302, 401] };
  // Caddy's internal CA is not in the exporter's trust store.
  if (platform.tls === 'internal') http.tls_config = { insecure_skip_verify: true };
  return generatedHeader('Blackbox exporter config') + toYaml({ modules: { http_2xx: { prober: 'http', timeout: '10s', http } } });
}
