import { Platform } from '../model/platform.js';
import { Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import { alertRules, renderAlertRules, renderPrometheusConfig, type AlertRule } from '../configs/prometheus.js';
import { recordingRules, type ObjectiveSources, type RecordingRule } from '../configs/slo.js';
import type { Target } from '../model/service.js';
import { defineService } from './descriptor.js';
import { catalogProps, type CatalogServiceProps } from './common.js';

export const PROMETHEUS_PORT = 9090;

/** Prometheus: scrapes every metrics endpoint it is told to, evaluates the homelab's alert list. */
export class Prometheus extends Service {
  private readonly scraped: Service[] = [];
  private alertmanager?: Service;
  private blackbox?: Service;

  constructor(stack: Stack, props: CatalogServiceProps) {
    const platform = Platform.of(stack);
    const retention = platform.config.monitoring.retentionDays;
    super(
      stack,
      'prometheus',
      catalogProps('prometheus', props, {
        description: `Metrics and alert rules (Prometheus, ${retention} d retention)`,
        command: [
          '--config.file=/etc/prometheus/prometheus.yml',
          '--storage.tsdb.path=/prometheus',
          `--storage.tsdb.retention.time=${retention}d`,
          '--web.enable-lifecycle',
        ],
        ports: [{ port: PROMETHEUS_PORT, name: 'http' }],
        volumes: [{ name: 'prometheus-data', mountPath: '/prometheus', sizeGb: 50, holds: 'state' }],
        configFiles: [
          {
            name: 'prometheus.yml',
            mountPath: '/etc/prometheus/prometheus.yml',
            content: (r) =>
              renderPrometheusConfig(platform, r, { scraped: this.scraped, alertmanager: this.alertmanager, blackbox: this.blackbox }),
          },
          { name: 'rules/alerts.yml', mountPath: '/etc/prometheus/rules/alerts.yml', content: (r) => renderAlertRules(this.alertRules(r.target), this.recordingRules()) },
        ],
        healthCheck: { http: { port: PROMETHEUS_PORT, path: '/-/healthy' } },
        resources: { cpus: 2, memoryGb: 4 },
        security: { nonRootUid: 65534 },
        metrics: { port: PROMETHEUS_PORT },
      }),
    );
  }

  /** The alert rules it evaluates on `target`, each with the proof that it fires (see renderAlertRuleTests). */
  alertRules(target: Target): AlertRule[] {
    return alertRules(Platform.of(this), target, this.objectiveSources);
  }

  /** Recording rules of the service levels (per-site rate, errors, latency; 30-day availability). */
  recordingRules(): RecordingRule[] {
    return recordingRules(Platform.of(this), this.objectiveSources);
  }

  private get objectiveSources(): ObjectiveSources {
    return { edge: this.scraped.some((s) => s.name === 'caddy'), probes: this.blackbox !== undefined };
  }

  /** Services whose metrics it scrapes. */
  get targets(): readonly Service[] {
    return this.scraped;
  }

  /** Scrape `service`'s metrics endpoint (every instance of a per-node service). */
  scrape(service: Service): void {
    if (!service.metrics) throw new Error(`prometheus cannot scrape ${service.name}: it has no metrics endpoint`);
    if (service === this || this.scraped.includes(service)) return;
    this.scraped.push(service);
    this.connect(service, { port: service.metrics.port });
  }

  /** Send alerts to `alertmanager`. */
  alertTo(alertmanager: Service): void {
    this.alertmanager = alertmanager;
    this.connect(alertmanager);
  }

  /** Probe every route's public URL through the blackbox exporter. */
  probeWith(blackbox: Service): void {
    this.blackbox = blackbox;
    this.connect(blackbox);
  }
}

/** Prometheus: scrapes every service with a metrics endpoint on a deployed node, once all are built. */
export const prometheus = defineService({
  name: 'prometheus',
  image: 'prom/prometheus:v3.5.0',
  stack: 'monitoring',
  zone: 'monitoring',
  on: 'server',
  adminWithoutLogin: true,
  create: ({ stack, props }) => new Prometheus(stack, props),
  finish: ({ platform }, service) => {
    for (const other of platform.services) {
      if (other.metrics && other.nodes.every((n) => n.deployed)) (service as Prometheus).scrape(other);
    }
  },
});
