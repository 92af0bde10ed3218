import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { referenceConfig } from '../lib/config/load.js';
import { configKey } from '../charts/service-workload.js';
import { render, renderK3s } from '../lib/synth.js';
import type { LoadedConfig } from '../lib/config/load.js';
import { fixtureNames, loadFixture } from './support/render.js';
import { runTool, sectionsByFile, toolAvailable, type ToolRun } from './support/tools.js';
import { caddyfilePathForInstalledCaddy } from './support/caddy.js';
import { readYaml } from './support/yaml.js';

/*
 * The rendered service configs, checked by the programs that will load them. Required in CI
 * (CI=true, .ci/run installs them); skipped locally with the reason printed when a tool is missing.
 */

const configs = [
  { name: 'reference', load: referenceConfig },
  ...fixtureNames('valid').map((name) => ({ name, load: () => loadFixture('valid', name) })),
];
const scratch = mkdtempSync(join(tmpdir(), 'platform-tools-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A real bcrypt hash (of "test"), as `caddy hash-password` prints it. */
const BCRYPT = '$2a$14$0gSDS8Rn0kYrAm3JxdMxk.M1kEtvBXo1J6j6qjjgrIMh0uJ6cPMAi';

function writeFiles(dir: string, files: readonly { path: string; content: string }[]): { dir: string; paths: string[] } {
  for (const file of files) {
    const target = join(dir, file.path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, file.content);
  }
  return { dir, paths: files.map((f) => f.path) };
}

/** Compose (plain flavour): the config files beside each compose.yaml. */
function composeConfigs(name: string, loaded: LoadedConfig): { dir: string; paths: string[] } {
  return writeFiles(join(scratch, `${name}-compose`), render(loaded, 'plain').files);
}

/** k3s: the same files, taken out of the rendered ConfigMaps (`<service>-config`), at `configmaps/<service>/<file>`. */
async function k3sConfigs(name: string, loaded: LoadedConfig): Promise<{ dir: string; paths: string[] }> {
  const { platform, output } = await renderK3s(loaded);
  const files: { path: string; content: string }[] = [];
  for (const service of platform.services) {
    const rendered = output.files.find((f) => f.path.endsWith(`/configmap-${service.zone.namespace}-${service.name}-config.yaml`));
    if (!rendered) continue;
    const data = (readYaml(rendered.content) as { data: Record<string, string> }).data;
    for (const file of service.configFiles) files.push({ path: `configmaps/${service.name}/${file.name}`, content: data[configKey(file.name)] ?? '' });
  }
  return writeFiles(join(scratch, `${name}-k3s`), files);
}

const trees = await Promise.all(
  configs.flatMap(({ name, load }) => [
    Promise.resolve({ name: `${name} (compose)`, ...composeConfigs(name, load()) }),
    k3sConfigs(name, load()).then((tree) => ({ name: `${name} (k3s)`, ...tree })),
  ]),
);

/**
 * Debian's Prometheus is built without Kubernetes service discovery (client-go is not packaged),
 * so its promtool rejects `kubernetes_sd_configs`, which prom/prometheus reads. Each such block is
 * swapped for a static target so promtool still checks everything else of the job, its
 * relabelling included; the discovery block itself is asserted in k3s.test.ts.
 */
function withoutKubernetesDiscovery(text: string): string {
  const doc = readYaml(text) as { scrape_configs: Record<string, unknown>[] };
  let swapped = 0;
  for (const job of doc.scrape_configs) {
    if (!job.kubernetes_sd_configs) continue;
    delete job.kubernetes_sd_configs;
    job.static_configs = [{ targets: ['127.0.0.1:9'] }];
    swapped += 1;
  }
  return swapped === 0 ? text : stringify(doc);
}

/** Every config file of every tree that a tool checks, with the report of its check. */
interface Checks {
  caddy: Map<string, ToolRun>;
  prometheus: Map<string, string>;
  alertmanager: Map<string, string>;
}
const checks: Checks = { caddy: new Map(), prometheus: new Map(), alertmanager: new Map() };

const find = (tree: { dir: string; paths: string[] }, suffix: string) => tree.paths.filter((p) => p.endsWith(suffix)).map((p) => join(tree.dir, p));

/** The prometheus.yml of `tree` with rule_files pointed at the rendered rules, so `check config` checks them too. */
function localPrometheusConfig(tree: { dir: string; paths: string[] }): string | undefined {
  const [config] = find(tree, '/prometheus/prometheus.yml');
  const [rules] = find(tree, '/prometheus/rules/alerts.yml');
  if (!config || !rules) return undefined;
  const local = join(dirname(config), 'prometheus.local.yml');
  writeFileSync(local, withoutKubernetesDiscovery(readFileSync(config, 'utf8').replace('/etc/prometheus/rules/*.yml', rules)));
  return local;
}

/**
 * Each tool runs as few times as it can: promtool and amtool check every tree's file in one
 * process each (they report file by file); caddy validates one file a process, each distinct
 * Caddyfile once, two at a time, beside the others.
 */
beforeAll(async () => {
  const jobs: Promise<void>[] = [];
  if (toolAvailable('promtool')) {
    const configs = trees.flatMap((tree) => localPrometheusConfig(tree) ?? []);
    jobs.push(
      runTool('promtool', ['check', 'config', ...configs]).then((run) => {
        for (const [file, report] of sectionsByFile(run.output, configs, (f) => `Checking ${f}`)) checks.prometheus.set(file, report);
      }),
    );
  }
  if (toolAvailable('amtool')) {
    const configs = trees.flatMap((tree) => find(tree, '/alertmanager/alertmanager.yml'));
    jobs.push(
      runTool('amtool', ['check-config', ...configs]).then((run) => {
        for (const [file, report] of sectionsByFile(run.output, configs, (f) => `Checking '${f}'`)) checks.alertmanager.set(file, report);
      }),
    );
  }
  if (toolAvailable('caddy')) {
    const byText = new Map<string, string[]>();
    for (const file of trees.flatMap((tree) => find(tree, '/caddy/Caddyfile'))) {
      const text = readFileSync(caddyfilePathForInstalledCaddy(file), 'utf8');
      byText.set(text, [...(byText.get(text) ?? []), file]);
    }
    // Every basic-auth variable of every Caddyfile, set to a real hash.
    const hashes = Object.fromEntries([...byText.keys()].flatMap((text) => [...text.matchAll(/\{\$([A-Z0-9_]+)\}/g)].map((m) => [m[1] as string, BCRYPT])));
    const pending = [...byText.values()];
    const lane = async (name: string) => {
      // Each lane its own Caddy home: two processes never share a storage folder.
      const home = join(scratch, name);
      mkdirSync(home, { recursive: true });
      const env = { ...process.env, ...hashes, HOME: home, XDG_DATA_HOME: home, XDG_CONFIG_HOME: home };
      for (let files = pending.shift(); files; files = pending.shift()) {
        const run = await runTool('caddy', ['validate', '--adapter', 'caddyfile', '--config', caddyfilePathForInstalledCaddy(files[0] as string)], { env });
        for (const file of files) checks.caddy.set(file, run);
      }
    };
    jobs.push(lane('caddy-home-1'), lane('caddy-home-2'));
  }
  await Promise.all(jobs);
}, 120_000);

describe.each(trees)('$name', (tree) => {
  it.runIf(toolAvailable('caddy'))('caddy validate accepts the Caddyfile', () => {
    const [caddyfile] = find(tree, '/caddy/Caddyfile');
    expect(caddyfile).toBeDefined();
    const run = checks.caddy.get(caddyfile as string);
    expect(run?.status, run?.output).toBe(0);
    expect(run?.output).toContain('Valid configuration');
  });

  it.runIf(toolAvailable('promtool'))('promtool accepts prometheus.yml and the alert rules', () => {
    const [config] = find(tree, '/prometheus/prometheus.yml');
    const [rules] = find(tree, '/prometheus/rules/alerts.yml');
    expect(config && rules).toBeTruthy();
    const report = checks.prometheus.get(join(dirname(config as string), 'prometheus.local.yml')) ?? '';
    expect(report, report).not.toContain('FAILED');
    expect(report).toContain(' SUCCESS: 1 rule files found');
    expect(report).toContain('is valid prometheus config file syntax');
    // `check config` checks each rule file it loads as `check rules` does (cmd/promtool/main.go, CheckConfig calls checkRules).
    expect(report).toMatch(new RegExp(`^Checking ${(rules as string).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\n {2}SUCCESS: \\d+ rules found$`, 'm'));
  });

  it.runIf(toolAvailable('amtool'))('amtool accepts alertmanager.yml', () => {
    const [config] = find(tree, '/alertmanager/alertmanager.yml');
    const report = checks.alertmanager.get(config as string) ?? '';
    expect(report, report).toMatch(/^Checking '.*' {2}SUCCESS$/m);
  });
});
