import type { Platform } from '../model/platform.js';
import type { AlertRule } from './prometheus.js';

/*
 * Service levels of the AI edge, measured by Prometheus from Caddy's own metrics.
 *
 * Caddy 2.10 instruments every HTTP handler when the global `metrics` option is on, and labels
 * each series with the request's host with `per_host` (caddyserver/caddy v2.10.0
 * modules/caddyhttp/metrics.go lines 40-100: `caddy_http_requests_total{server,handler,host}`,
 * `caddy_http_request_duration_seconds` and `caddy_http_response_duration_seconds`
 * {server,handler,code,method,host}, buckets prometheus.DefBuckets, 5 ms to 10 s). Only the
 * handlers of a server's top-level routes are instrumented (nested routes are provisioned without
 * metrics: modules/caddyhttp/routes.go line 189), and the Caddyfile adapter makes each site block
 * one such route whose handler is a `subroute`: its series count each request of the site once.
 *
 * Latency is the time to the first byte of the response (`response_duration_seconds`): a chat
 * completion streams, so its full duration grows with the answer's length while the first byte is
 * what a person waits for; a websocket (Open WebUI) stays open for the session but answers its
 * upgrade at once.
 *
 * LiteLLM's own per-model metrics are not used: at the pinned v1.79.1 its Prometheus callback
 * registers only `litellm_not_a_premium_user_metric` without an enterprise licence
 * (litellm/integrations/prometheus.py, `if premium_user is not True`); it became open source in
 * BerriAI/litellm#16689 (merged 2025-11-15, after v1.79.1).
 */

/** Caddy's handler whose series count each request of a site once. */
export const CADDY_SITE_HANDLER = 'subroute';

/** A class of sites with a latency objective. */
export interface LatencyObjective {
  /** `text` or `image`: the `class` label of the recorded series. */
  readonly name: string;
  /** Services whose routed sites are in this class. */
  readonly services: readonly string[];
  /** P95 of the time to first byte must stay under this. */
  readonly p95Seconds: number;
  /** What the class is, for summaries. */
  readonly description: string;
}

/**
 * Objectives of the design: text answers (the chat UI and the OpenAI-compatible API) start within
 * 3 s at the 95th percentile; image requests within 45 s.
 */
export const LATENCY_OBJECTIVES: readonly LatencyObjective[] = [
  { name: 'text', services: ['open-webui', 'litellm'], p95Seconds: 3, description: 'text (chat and LLM API)' },
  { name: 'image', services: ['comfyui'], p95Seconds: 45, description: 'image generation' },
];

/** Every routed site must answer its probe this share of the time over 30 days. */
export const AVAILABILITY_OBJECTIVE = 0.99;

/**
 * The largest finite bucket of Caddy's duration histograms (prometheus.DefBuckets). A quantile
 * that falls in the +Inf bucket is reported as this bound, so an objective above it cannot be
 * seen to fail from Caddy's metrics.
 */
export const CADDY_LARGEST_BUCKET_SECONDS = 10;

/** Upper bounds of Caddy's duration buckets (prometheus.DefBuckets), in seconds. */
const CADDY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, CADDY_LARGEST_BUCKET_SECONDS];

/** A recording rule: `record` is computed from `expr` every evaluation. */
export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
  readonly labels?: Readonly<Record<string, string>>;
}

/** A PromQL regex matching a site's host as Caddy labels it (lower case, maybe with a port). */
function hostRegex(fqdns: readonly string[]): string {
  return `(${fqdns.map((f) => f.toLowerCase().replace(/\./g, '\\\\.')).join('|')})(:[0-9]+)?`;
}

/** The sites of `objective` on `platform`: fully qualified names of routes to its services. */
export function objectiveSites(platform: Platform, objective: LatencyObjective): string[] {
  return platform.routes
    .filter((r) => r.service !== undefined && objective.services.includes(r.service.name))
    .map((r) => platform.fqdn(r.host))
    .sort();
}

const SITE = `handler="${CADDY_SITE_HANDLER}"`;

/** What Prometheus measures the objectives from. */
export interface ObjectiveSources {
  /** Caddy's metrics are scraped. */
  readonly edge: boolean;
  /** The blackbox exporter probes every site. */
  readonly probes: boolean;
}

/** Recording rules: per-site rate, errors and latency percentiles; per-class P95; 30-day availability. */
export function recordingRules(platform: Platform, sources: ObjectiveSources): RecordingRule[] {
  const rules: RecordingRule[] = [];
  if (sources.edge) {
    rules.push(
      { record: 'site:caddy_requests:rate5m', expr: `sum by (host) (rate(caddy_http_requests_total{${SITE}}[5m]))` },
      {
        record: 'site:caddy_errors:ratio_rate5m',
        expr: `sum by (host) (rate(caddy_http_response_duration_seconds_count{${SITE},code=~"5.."}[5m]))\n/\nsum by (host) (rate(caddy_http_response_duration_seconds_count{${SITE}}[5m]))`,
      },
      ...[0.5, 0.95, 0.99].map((q) => ({
        record: `site:caddy_ttfb_seconds:p${Math.round(q * 100)}_5m`,
        expr: `histogram_quantile(${q}, sum by (host, le) (rate(caddy_http_response_duration_seconds_bucket{${SITE}}[5m])))`,
      })),
    );
    for (const objective of LATENCY_OBJECTIVES) {
      const sites = objectiveSites(platform, objective);
      if (sites.length === 0) continue;
      rules.push({
        record: 'slo:caddy_ttfb_seconds:p95_5m',
        expr: `histogram_quantile(0.95, sum by (le) (rate(caddy_http_response_duration_seconds_bucket{${SITE},host=~"${hostRegex(sites)}"}[5m])))`,
        labels: { class: objective.name },
      });
    }
  }
  if (sources.probes && platform.routes.length > 0) {
    rules.push({ record: 'site:probe_success:avg_30d', expr: 'avg_over_time(probe_success{job="sites"}[30d])' });
  }
  return rules;
}

/** Alerts on the objectives, each with its proof (see AlertProof). */
export function objectiveAlerts(platform: Platform, sources: ObjectiveSources): AlertRule[] {
  const alerts: AlertRule[] = [];
  const recorded = new Set(recordingRules(platform, sources).map((r) => `${r.record}${r.labels?.class ?? ''}`));
  for (const objective of LATENCY_OBJECTIVES) {
    // An objective beyond Caddy's largest bucket cannot be seen to fail: no alert that never fires.
    if (!recorded.has(`slo:caddy_ttfb_seconds:p95_5m${objective.name}`) || objective.p95Seconds >= CADDY_LARGEST_BUCKET_SECONDS) continue;
    const [host] = objectiveSites(platform, objective);
    // Caddy's cumulative buckets, ten requests a minute: every first byte in the bucket above the
    // objective (3 s: between 2.5 and 5 s, P95 4.9 s) against every one under 1 s (P95 0.98 s).
    const bucket = (le: string) => `caddy_http_response_duration_seconds_bucket{handler="${CADDY_SITE_HANDLER}",host="${host}",code="200",method="POST",le="${le}"}`;
    const slowBucket = CADDY_BUCKETS.find((le) => le > objective.p95Seconds) ?? CADDY_LARGEST_BUCKET_SECONDS;
    const les = [...CADDY_BUCKETS.filter((le) => le >= 0.5), Infinity];
    const series = (from: number) => Object.fromEntries(les.map((le) => [bucket(le === Infinity ? '+Inf' : String(le)), le < from ? '0x40' : '0+10x40']));
    alerts.push({
      alert: 'LatencyObjectiveMissed',
      expr: `slo:caddy_ttfb_seconds:p95_5m{class="${objective.name}"} > ${objective.p95Seconds}`,
      for: '15m',
      severity: 'warning',
      summary: `P95 time to first byte of {{ $labels.class }} sites above ${objective.p95Seconds} s for 15 minutes`,
      proof: {
        failing: series(slowBucket),
        healthy: series(1),
        labels: { class: objective.name },
        evalAfter: '40m',
      },
    });
  }
  if (recorded.has('site:probe_success:avg_30d')) {
    const [site] = platform.routes.map((r) => `https://${platform.fqdn(r.host)}`).sort();
    alerts.push({
      alert: 'AvailabilityObjectiveMissed',
      expr: `site:probe_success:avg_30d < ${AVAILABILITY_OBJECTIVE}`,
      for: '1h',
      severity: 'warning',
      summary: `{{ $labels.instance }} answered less than ${AVAILABILITY_OBJECTIVE * 100}% of probes over 30 days`,
      proof: {
        // Six failed minutes in 200 (97% available) against one (99.5%, and never under 99%).
        failing: { [`probe_success{job="sites",instance="${site}"}`]: '1x10 0x5 1x185' },
        healthy: { [`probe_success{job="sites",instance="${site}"}`]: '1x150 0 1x49' },
        labels: { job: 'sites', instance: site as string },
        evalAfter: '200m',
      },
    });
  }
  return alerts;
}
