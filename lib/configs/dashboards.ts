import type { Target } from '../model/service.js';
import { CONTAINER_SERVICE_LABEL } from './prometheus.js';
import { AVAILABILITY_OBJECTIVE, LATENCY_OBJECTIVES } from './slo.js';

/*
 * Grafana dashboards, provisioned from files (Grafana reads them at start and every
 * `updateIntervalSeconds`; they cannot be saved over from the UI). Every query reads series the
 * pinned exporters publish under these names: node-exporter v1.9.1 (`node_*`), cAdvisor v0.52.1
 * (`container_*`, labelled with the runtime's container labels), dcgm-exporter 4.2.3-4.1.3 (its
 * default counters, etc/default-counters.csv: DCGM_FI_DEV_GPU_UTIL %, DCGM_FI_DEV_FB_USED and
 * _FB_FREE MiB, DCGM_FI_DEV_GPU_TEMP C, DCGM_FI_DEV_POWER_USAGE W), the blackbox exporter
 * (`probe_*`), Prometheus's own `up`, and the recording rules of the service levels (slo.ts).
 */

/** The dashboards the platform ships, by file name. */
export const DASHBOARDS = ['hosts', 'containers', 'gpus', 'service-health', 'ai-edge'] as const;
export type DashboardName = (typeof DASHBOARDS)[number];

/** Where the dashboard files are mounted, and where the provider reads them. */
export const DASHBOARDS_PATH = '/etc/grafana/dashboards';

/** One query of a panel. */
export interface PanelQuery {
  readonly expr: string;
  readonly legend: string;
}

/** A panel: a time series (or a stat with the latest value) over one or more queries. */
export interface Panel {
  readonly title: string;
  readonly kind: 'timeseries' | 'stat';
  readonly unit: string;
  readonly queries: readonly PanelQuery[];
  /** A red threshold line or colour at this value. @default none */
  readonly threshold?: number;
  readonly description?: string;
}

/** A dashboard before it is laid out as Grafana JSON. */
export interface Dashboard {
  readonly name: DashboardName;
  readonly title: string;
  readonly panels: readonly Panel[];
}

const RATE = '5m';
const REAL_FILESYSTEMS = 'fstype!~"tmpfs|overlay|squashfs|nsfs|ramfs"';

function hosts(): Dashboard {
  return {
    name: 'hosts',
    title: 'Hosts',
    panels: [
      { title: 'CPU busy', kind: 'timeseries', unit: 'percent', threshold: 90, queries: [{ expr: `100 - avg by (node) (rate(node_cpu_seconds_total{mode="idle"}[${RATE}])) * 100`, legend: '{{node}}' }] },
      { title: 'Memory used', kind: 'timeseries', unit: 'percent', threshold: 90, queries: [{ expr: '(1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes) * 100', legend: '{{node}}' }] },
      { title: 'Load (1 min) per core', kind: 'timeseries', unit: 'none', queries: [{ expr: 'node_load1 / on (node) count by (node) (node_cpu_seconds_total{mode="idle"})', legend: '{{node}}' }] },
      {
        title: 'Disk free',
        kind: 'timeseries',
        unit: 'percent',
        threshold: 20,
        queries: [{ expr: `node_filesystem_avail_bytes{${REAL_FILESYSTEMS}} / node_filesystem_size_bytes{${REAL_FILESYSTEMS}} * 100`, legend: '{{node}} {{mountpoint}}' }],
      },
      {
        title: 'Network',
        kind: 'timeseries',
        unit: 'Bps',
        queries: [
          { expr: `sum by (node) (rate(node_network_receive_bytes_total{device!="lo"}[${RATE}]))`, legend: '{{node}} in' },
          { expr: `sum by (node) (rate(node_network_transmit_bytes_total{device!="lo"}[${RATE}]))`, legend: '{{node}} out' },
        ],
      },
      {
        title: 'Disk I/O',
        kind: 'timeseries',
        unit: 'Bps',
        queries: [
          { expr: `sum by (node) (rate(node_disk_read_bytes_total[${RATE}]))`, legend: '{{node}} read' },
          { expr: `sum by (node) (rate(node_disk_written_bytes_total[${RATE}]))`, legend: '{{node}} written' },
        ],
      },
      { title: 'Uptime', kind: 'stat', unit: 's', queries: [{ expr: 'node_time_seconds - node_boot_time_seconds', legend: '{{node}}' }] },
    ],
  };
}

function containers(target: Target): Dashboard {
  const service = CONTAINER_SERVICE_LABEL[target];
  const named = `${service}!=""`;
  return {
    name: 'containers',
    title: 'Containers',
    panels: [
      { title: 'CPU (cores)', kind: 'timeseries', unit: 'none', queries: [{ expr: `sum by (node, ${service}) (rate(container_cpu_usage_seconds_total{${named}}[${RATE}]))`, legend: `{{node}} {{${service}}}` }] },
      { title: 'Memory (working set)', kind: 'timeseries', unit: 'bytes', queries: [{ expr: `sum by (node, ${service}) (container_memory_working_set_bytes{${named}})`, legend: `{{node}} {{${service}}}` }] },
      {
        title: 'Network in',
        kind: 'timeseries',
        unit: 'Bps',
        queries: [{ expr: `sum by (node, ${service}) (rate(container_network_receive_bytes_total{${named}}[${RATE}]))`, legend: `{{node}} {{${service}}}` }],
      },
      {
        title: 'Seconds since last seen',
        kind: 'stat',
        unit: 's',
        description: 'A container that stopped drops out of cAdvisor; the ContainerDown alert names it.',
        queries: [{ expr: `time() - max by (node, ${service}) (container_last_seen{${named}})`, legend: `{{node}} {{${service}}}` }],
      },
    ],
  };
}

/**
 * The GPU panels, each with a query per vendor whose exporter runs: DCGM on NVIDIA nodes, AMD's
 * Device Metrics Exporter (docs/configuration/metricslist.md: gpu_gfx_activity %, gpu_used_vram
 * and gpu_total_vram MB, gpu_edge_temperature C, gpu_power_usage W, per `gpu_id`) on AMD nodes.
 */
function gpus(vendors: GpuDashboardVendors): Dashboard {
  const legend = '{{node}} GPU {{gpu}}';
  const amdLegend = '{{node}} GPU {{gpu_id}}';
  const panel = (title: string, unit: string, nvidia: string, amd: string, threshold?: number): Panel => ({
    title,
    kind: 'timeseries',
    unit,
    ...(threshold !== undefined ? { threshold } : {}),
    queries: [...(vendors.nvidia ? [{ expr: nvidia, legend }] : []), ...(vendors.amd ? [{ expr: amd, legend: amdLegend }] : [])],
  });
  return {
    name: 'gpus',
    title: 'GPUs',
    panels: [
      panel('Utilisation', 'percent', 'DCGM_FI_DEV_GPU_UTIL', 'gpu_gfx_activity'),
      panel('VRAM used', 'percent', 'DCGM_FI_DEV_FB_USED / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE) * 100', 'gpu_used_vram / gpu_total_vram * 100'),
      // Both exporters report MiB / MB.
      panel('VRAM used (bytes)', 'bytes', 'DCGM_FI_DEV_FB_USED * 1048576', 'gpu_used_vram * 1048576'),
      panel('Temperature', 'celsius', 'DCGM_FI_DEV_GPU_TEMP', 'gpu_edge_temperature', 80),
      panel('Power', 'watt', 'DCGM_FI_DEV_POWER_USAGE', 'gpu_power_usage'),
    ],
  };
}

/** Which GPU exporters run, so the GPU dashboard queries only their series. */
export interface GpuDashboardVendors {
  readonly nvidia: boolean;
  readonly amd: boolean;
}

function serviceHealth(): Dashboard {
  return {
    name: 'service-health',
    title: 'Service health',
    panels: [
      { title: 'Scrape targets up', kind: 'stat', unit: 'none', queries: [{ expr: 'up', legend: '{{job}} {{node}}' }] },
      { title: 'Targets down', kind: 'stat', unit: 'none', queries: [{ expr: 'count(up == 0) or vector(0)', legend: 'down' }] },
      { title: 'Sites answering', kind: 'stat', unit: 'none', queries: [{ expr: 'probe_success{job="sites"}', legend: '{{instance}}' }] },
      { title: 'Probe duration', kind: 'timeseries', unit: 's', queries: [{ expr: 'probe_duration_seconds{job="sites"}', legend: '{{instance}}' }] },
      {
        title: 'Availability, 30 days',
        kind: 'stat',
        unit: 'percentunit',
        threshold: AVAILABILITY_OBJECTIVE,
        description: `Share of blackbox probes answered over 30 days; the objective is ${AVAILABILITY_OBJECTIVE * 100}%.`,
        queries: [{ expr: 'site:probe_success:avg_30d', legend: '{{instance}}' }],
      },
      { title: 'TLS certificate expires in', kind: 'stat', unit: 's', queries: [{ expr: 'probe_ssl_earliest_cert_expiry{job="sites"} - time()', legend: '{{instance}}' }] },
    ],
  };
}

function aiEdge(): Dashboard {
  return {
    name: 'ai-edge',
    title: 'AI edge (Caddy, per site)',
    panels: [
      { title: 'Requests per second', kind: 'timeseries', unit: 'reqps', queries: [{ expr: 'site:caddy_requests:rate5m', legend: '{{host}}' }] },
      { title: 'Server errors (5xx)', kind: 'timeseries', unit: 'percentunit', queries: [{ expr: 'site:caddy_errors:ratio_rate5m', legend: '{{host}}' }] },
      {
        title: 'Time to first byte',
        kind: 'timeseries',
        unit: 's',
        queries: [50, 95, 99].map((p) => ({ expr: `site:caddy_ttfb_seconds:p${p}_5m`, legend: `{{host}} p${p}` })),
      },
      ...LATENCY_OBJECTIVES.map((o) => ({
        title: `P95 time to first byte: ${o.description}`,
        kind: 'timeseries' as const,
        unit: 's',
        threshold: o.p95Seconds,
        description: `Objective: under ${o.p95Seconds} s.`,
        queries: [{ expr: `slo:caddy_ttfb_seconds:p95_5m{class="${o.name}"}`, legend: o.name }],
      })),
      { title: 'Availability, 30 days', kind: 'stat', unit: 'percentunit', threshold: AVAILABILITY_OBJECTIVE, queries: [{ expr: 'site:probe_success:avg_30d', legend: '{{instance}}' }] },
    ],
  };
}

/** Every dashboard for `target`, by name. */
export function dashboards(target: Target, gpuVendors: GpuDashboardVendors = { nvidia: true, amd: false }): Readonly<Record<DashboardName, Dashboard>> {
  return { hosts: hosts(), containers: containers(target), gpus: gpus(gpuVendors), 'service-health': serviceHealth(), 'ai-edge': aiEdge() };
}

/** Grafana's dashboard JSON: two panels a row, the Prometheus datasource of the provisioning. */
export function renderDashboard(dashboard: Dashboard): string {
  const datasource = { type: 'prometheus', uid: 'prometheus' };
  const panels = dashboard.panels.map((panel, index) => ({
    id: index + 1,
    type: panel.kind,
    title: panel.title,
    ...(panel.description ? { description: panel.description } : {}),
    datasource,
    gridPos: { h: 8, w: 12, x: (index % 2) * 12, y: Math.floor(index / 2) * 8 },
    fieldConfig: {
      defaults: {
        unit: panel.unit,
        ...(panel.threshold !== undefined
          ? { thresholds: { mode: 'absolute', steps: [{ color: 'green', value: null }, { color: 'red', value: panel.threshold }] } }
          : {}),
        ...(panel.threshold !== undefined && panel.kind === 'timeseries' ? { custom: { thresholdsStyle: { mode: 'line' } } } : {}),
      },
      overrides: [],
    },
    options: panel.kind === 'stat' ? { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'value' } : { legend: { displayMode: 'list', placement: 'bottom' } },
    targets: panel.queries.map((q, i) => ({ refId: String.fromCharCode(65 + i), datasource, expr: q.expr, legendFormat: q.legend })),
  }));
  const json = {
    uid: `platform-${dashboard.name}`,
    title: dashboard.title,
    tags: ['platform'],
    editable: false,
    schemaVersion: 39,
    time: { from: 'now-6h', to: 'now' },
    refresh: '1m',
    panels,
  };
  return `${JSON.stringify(json, null, 2)}\n`;
}
