import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceConfig } from '../lib/config/load.js';
import { DASHBOARDS, dashboards, renderDashboard } from '../lib/configs/dashboards.js';
import { renderAlertRules } from '../lib/configs/prometheus.js';
import type { Target } from '../lib/model/service.js';
import { Prometheus } from '../lib/services/prometheus.js';
import { buildReferencePlatform } from '../stacks/reference.js';
import { inlineConfig, renderTree, configText } from './support/render.js';
import { freePorts, stopped } from './support/process.js';
import { runTool, sectionsByFile, toolAvailable } from './support/tools.js';
import { caddyfileForInstalledCaddy, GLOBAL_METRICS_BLOCK } from './support/caddy.js';
import { CADDY_SITE_HANDLER } from '../lib/configs/slo.js';
import { toYaml } from '../lib/output/yaml.js';
import { readYaml } from './support/yaml.js';

/*
 * The provisioned Grafana dashboards: every panel's query is PromQL that Prometheus's own parser
 * accepts (each becomes a recording rule, checked offline by `promtool check rules`), and the host
 * panels return data from a real Prometheus scraping a real node exporter on loopback.
 */

const scratch = mkdtempSync(join(tmpdir(), 'platform-dashboards-'));
const children: ChildProcess[] = [];
/** Prometheus and the node exporter, started before the first test (see startPrometheus); the URL of Prometheus. */
let started: Promise<string> | undefined;
// The programs first (Prometheus writes its TSDB under scratch as it stops), then their folder.
afterAll(async () => {
  // Started by the hook further down, maybe still starting (a run of the offline checks alone).
  await started?.catch(() => undefined);
  await Promise.all(children.map(stopped));
  rmSync(scratch, { recursive: true, force: true });
});

const TARGETS: Target[] = ['compose', 'k3s'];

describe('provisioned dashboards', () => {
  it('the reference ships the five dashboards and their provider', () => {
    const tree = renderTree(referenceConfig(), 'plain');
    for (const name of DASHBOARDS) {
      const text = configText(tree, 'homelab/monitoring', 'grafana', `/etc/grafana/dashboards/${name}.json`);
      expect(text, name).toBeDefined();
      const json = JSON.parse(text as string) as { uid: string; panels: { targets: { expr: string }[] }[] };
      expect(json.uid).toBe(`platform-${name}`);
      expect(json.panels.length).toBeGreaterThan(0);
    }
    const provider = readYaml(configText(tree, 'homelab/monitoring', 'grafana', '/etc/grafana/provisioning/dashboards/platform.yaml') as string) as {
      providers: { type: string; options: { path: string }; allowUiUpdates: boolean }[];
    };
    expect(provider.providers).toEqual([expect.objectContaining({ type: 'file', allowUiUpdates: false, options: { path: '/etc/grafana/dashboards' } })]);
  });

  it('without the GPU exporter there is no GPU dashboard', () => {
    const loaded = inlineConfig({ services: { 'gpu-exporter': { enabled: false } } });
    const tree = renderTree(loaded, 'plain');
    expect(configText(tree, 'homelab/monitoring', 'grafana', '/etc/grafana/dashboards/gpus.json')).toBeUndefined();
    expect(configText(tree, 'homelab/monitoring', 'grafana', '/etc/grafana/dashboards/hosts.json')).toBeDefined();
  });

  it('the containers dashboard groups by the label each runtime gives a container', () => {
    expect(renderDashboard(dashboards('compose').containers)).toContain('container_label_com_docker_compose_service');
    expect(renderDashboard(dashboards('k3s').containers)).toContain('container_label_io_kubernetes_container_name');
  });

  it('the GPU panels read the dcgm-exporter default counters: utilisation, VRAM, temperature, power', () => {
    const exprs = dashboards('compose').gpus.panels.flatMap((p) => p.queries.map((q) => q.expr)).join('\n');
    for (const counter of ['DCGM_FI_DEV_GPU_UTIL', 'DCGM_FI_DEV_FB_USED', 'DCGM_FI_DEV_FB_FREE', 'DCGM_FI_DEV_GPU_TEMP', 'DCGM_FI_DEV_POWER_USAGE']) {
      expect(exprs).toContain(counter);
    }
  });

  it('every query of an AI-edge panel reads a series the rules record', () => {
    const platform = buildReferencePlatform(referenceConfig().config);
    const prometheus = platform.service('prometheus') as Prometheus;
    const recorded = new Set(prometheus.recordingRules().map((r) => r.record));
    for (const panel of dashboards('compose')['ai-edge'].panels) {
      for (const query of panel.queries) expect(recorded.has(query.expr.replace(/\{.*$/, '')), query.expr).toBe(true);
    }
  });

  it.runIf(toolAvailable('promtool'))('promtool parses every panel query of every dashboard (both targets) and the rendered rules', async () => {
    const platform = buildReferencePlatform(referenceConfig().config);
    const prometheus = platform.service('prometheus') as Prometheus;
    const panelFiles = TARGETS.map((target) => {
      const rules = Object.values(dashboards(target)).flatMap((d) =>
        d.panels.flatMap((p, i) => p.queries.map((q, j) => ({ record: `panel:${d.name.replace(/-/g, '_')}:${i}_${j}`, expr: q.expr }))),
      );
      const file = join(scratch, `panels-${target}.yml`);
      writeFileSync(file, toYaml({ groups: [{ name: 'panels', rules }] }));
      return { file, count: rules.length };
    });
    const alertFiles = TARGETS.map((target) => {
      const file = join(scratch, `alerts-${target}.yml`);
      writeFileSync(file, renderAlertRules(prometheus.alertRules(target), prometheus.recordingRules()));
      return file;
    });
    // One promtool for every file: it checks them one by one and reports each under "Checking <file>".
    const files = [...panelFiles.map((p) => p.file), ...alertFiles];
    const run = await runTool('promtool', ['check', 'rules', ...files]);
    expect(run.status, run.output).toBe(0);
    const reports = sectionsByFile(run.output, files, (f) => `Checking ${f}`);
    for (const { file, count } of panelFiles) expect(reports.get(file)).toContain(`SUCCESS: ${count} rules found`);
    for (const file of alertFiles) expect(reports.get(file)).toMatch(/SUCCESS: \d+ rules found/);
  });
});

describe.runIf(toolAvailable('caddy'))('the Caddy metrics the service levels read', () => {
  const tree = renderTree(referenceConfig(), 'plain');
  const caddyfile = configText(tree, 'homelab/edge', 'caddy', '/etc/caddy/Caddyfile') as string;

  it('turns on per-host HTTP metrics in the global options (Caddy 2.9+)', () => {
    const global = caddyfile.slice(caddyfile.indexOf('{\n'), caddyfile.indexOf('\n}\n') + 3);
    expect(global).toContain(GLOBAL_METRICS_BLOCK);
  });

  it(`each site is one top-level route whose handler is a ${CADDY_SITE_HANDLER}: the series the rules count per site (caddy adapt)`, () => {
    const file = join(scratch, 'Caddyfile');
    writeFileSync(file, caddyfileForInstalledCaddy(caddyfile));
    // Any bcrypt hash for the basic-auth variables (this one is of "test").
    const hashes = Object.fromEntries([...caddyfile.matchAll(/\{\$([A-Z0-9_]+)\}/g)].map((m) => [m[1] as string, '$2a$14$ajq8Q7fbtFRQvXpdCq7Jcuy.Rx1h/L4J60Otx.gyNLbAYctGMJ9tK']));
    const env = { ...process.env, ...hashes, HOME: scratch, XDG_DATA_HOME: scratch, XDG_CONFIG_HOME: scratch };
    const adapted = JSON.parse(execFileSync('caddy', ['adapt', '--adapter', 'caddyfile', '--config', file], { encoding: 'utf8', env })) as {
      apps: { http: { servers: Record<string, { listen: string[]; routes: { match?: { host?: string[] }[]; handle: { handler: string }[] }[] }> } };
    };
    const https = Object.values(adapted.apps.http.servers).find((s) => s.listen.includes(':443'));
    const platform = buildReferencePlatform(referenceConfig().config);
    for (const route of platform.routes) {
      const fqdn = platform.fqdn(route.host);
      const top = https?.routes.find((r) => r.match?.some((m) => m.host?.includes(fqdn)));
      expect(top?.handle.map((h) => h.handler), fqdn).toEqual([CADDY_SITE_HANDLER]);
    }
  });
});

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, seconds = 30): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface QueryResult {
  status: string;
  data: { result: { metric: Record<string, string>; value: [number, string] }[] };
}

const realTools = toolAvailable('prometheus') && toolAvailable('prometheus-node-exporter');

/**
 * Prometheus 2.42 starts scraping some 5 s after it starts, whatever the scrape interval: its scrape
 * manager applies discovered targets on a ticker it clamps to at least 5 s (scrape/manager.go,
 * reloader). So both programs start before the file's first test, and boot while the offline checks
 * above run. They start in a hook, not as the file loads: a run that filters every test of this file
 * out (`vitest -t <name>`) runs none of its hooks, the stopping afterAll included, and would leave
 * both programs running after vitest exits.
 */

async function startPrometheus(): Promise<string> {
  const [exporterPort, prometheusPort] = (await freePorts(2)) as [number, number];
  children.push(spawn('prometheus-node-exporter', [`--web.listen-address=127.0.0.1:${exporterPort}`], { stdio: 'ignore' }));
  const platform = buildReferencePlatform(referenceConfig().config);
  const prometheus = platform.service('prometheus') as Prometheus;
  // The rendered rules load too: the recording rules and alerts run on this Prometheus.
  writeFileSync(join(scratch, 'alerts.yml'), renderAlertRules(prometheus.alertRules('compose'), prometheus.recordingRules()));
  // The job and node label the rendered prometheus.yml gives the node exporter's targets.
  writeFileSync(
    join(scratch, 'prometheus.yml'),
    toYaml({
      global: { scrape_interval: '500ms', evaluation_interval: '500ms' },
      rule_files: [join(scratch, 'alerts.yml')],
      scrape_configs: [{ job_name: 'node-exporter', static_configs: [{ targets: [`127.0.0.1:${exporterPort}`], labels: { node: 'homelab' } }] }],
    }),
  );
  children.push(
    spawn('prometheus', [`--config.file=${join(scratch, 'prometheus.yml')}`, `--storage.tsdb.path=${join(scratch, 'tsdb')}`, `--web.listen-address=127.0.0.1:${prometheusPort}`], {
      stdio: 'ignore',
    }),
  );
  return `http://127.0.0.1:${prometheusPort}`;
}

beforeAll(() => {
  if (!realTools) return;
  started = startPrometheus();
  // Awaited by the real-tools block below; a run that filters that block out still sees a failure here.
  started.catch((err: unknown) => console.error(`the test Prometheus did not start: ${String(err)}`));
});

describe.runIf(realTools)('host panels against a real Prometheus scraping a real node exporter', () => {
  let query: (expr: string) => Promise<QueryResult>;
  let base = '';

  beforeAll(async () => {
    base = await (started as Promise<string>);
    query = async (expr: string) => {
      const response = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(expr)}`);
      return (await response.json()) as QueryResult;
    };
    // rate() needs two samples inside its window (5m): wait for the second scrape that succeeded.
    // `up` is 1 for a scrape that got the metrics and 0 for one that failed (a scrape times out at
    // the 500 ms interval on a loaded machine), which gives no samples: its sum counts the good ones.
    await waitFor('two successful scrapes of the node exporter', async () => {
      const result = await query('sum_over_time(up{job="node-exporter"}[1m]) >= 2 and up{job="node-exporter"} == 1');
      return result.data.result.length > 0 ? true : undefined;
    });
  }, 60_000);

  const panels = dashboards('compose').hosts.panels.flatMap((p) => p.queries.map((q) => ({ title: p.title, ...q })));
  it.each(panels)('$title: $expr', async ({ expr }) => {
    const result = await query(expr);
    expect(result.status).toBe('success');
    expect(result.data.result.length, `${expr} returned no series`).toBeGreaterThan(0);
    for (const series of result.data.result) {
      expect(series.metric.node).toBe('homelab');
      expect(Number.isFinite(Number(series.value[1])), `${expr}: ${series.value[1]}`).toBe(true);
    }
  });

  it('the rendered recording rules and alerts load and evaluate without error', async () => {
    const response = await fetch(`${base}/api/v1/rules`);
    const body = (await response.json()) as { data: { groups: { name: string; rules: { name: string; health: string; lastError?: string }[] }[] } };
    expect(body.data.groups.map((g) => g.name).sort()).toEqual(['homelab', 'slo']);
    await waitFor('a first evaluation of every rule', async () => {
      const again = (await (await fetch(`${base}/api/v1/rules`)).json()) as typeof body;
      const rules = again.data.groups.flatMap((g) => g.rules);
      return rules.every((r) => r.health === 'ok') ? rules : undefined;
    });
  });
});
