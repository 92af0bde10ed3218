import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { referenceConfig } from '../lib/config/load.js';
import { configKey } from '../charts/service-workload.js';
import { render, renderK3s } from '../lib/synth.js';
import type { LoadedConfig } from '../lib/config/load.js';
import { fixtureNames, loadFixture } from './support/render.js';
import { toolAvailable } from './support/tools.js';
import { caddyfilePathForInstalledCaddy } from './support/caddy.js';

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
    const data = (parse(rendered.content) as { data: Record<string, string> }).data;
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

function run(tool: string, args: string[], env: Record<string, string> = {}): string {
  try {
    return execFileSync(tool, args, { encoding: 'utf8', stdio: 'pipe', env: { ...process.env, ...env } });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    throw new Error(`${tool} ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

/**
 * Debian's Prometheus is built without Kubernetes service discovery (client-go is not packaged),
 * so its promtool rejects `kubernetes_sd_configs`, which prom/prometheus reads. Each such block is
 * swapped for a static target so promtool still checks everything else of the job, its
 * relabelling included; the discovery block itself is asserted in k3s.test.ts.
 */
function withoutKubernetesDiscovery(text: string): string {
  const doc = parse(text) as { scrape_configs: Record<string, unknown>[] };
  let swapped = 0;
  for (const job of doc.scrape_configs) {
    if (!job.kubernetes_sd_configs) continue;
    delete job.kubernetes_sd_configs;
    job.static_configs = [{ targets: ['127.0.0.1:9'] }];
    swapped += 1;
  }
  return swapped === 0 ? text : stringify(doc);
}

describe.each(trees)('$name', ({ name, dir, paths }) => {
  const find = (suffix: string) => paths.filter((p) => p.endsWith(suffix)).map((p) => join(dir, p));

  it.runIf(toolAvailable('caddy'))('caddy validate accepts the Caddyfile', () => {
    const [caddyfile] = find('/caddy/Caddyfile');
    expect(caddyfile).toBeDefined();
    const hashes = Object.fromEntries(
      [...(run('cat', [caddyfile as string]).matchAll(/\{\$([A-Z0-9_]+)\}/g))].map((m) => [m[1] as string, BCRYPT]),
    );
    const home = join(scratch, `${name.replace(/\W+/g, '-')}-caddy-home`);
    mkdirSync(home, { recursive: true });
    const out = run('caddy', ['validate', '--adapter', 'caddyfile', '--config', caddyfilePathForInstalledCaddy(caddyfile as string)], { ...hashes, HOME: home, XDG_DATA_HOME: home, XDG_CONFIG_HOME: home });
    expect(out).toContain('Valid configuration');
  });

  it.runIf(toolAvailable('promtool'))('promtool accepts prometheus.yml and the alert rules', () => {
    const [config] = find('/prometheus/prometheus.yml');
    const [rules] = find('/prometheus/rules/alerts.yml');
    expect(config && rules).toBeTruthy();
    // Point rule_files at the rendered rules so `check config` checks them too.
    const local = join(dirname(config as string), 'prometheus.local.yml');
    const text = run('cat', [config as string]).replace('/etc/prometheus/rules/*.yml', rules as string);
    writeFileSync(local, withoutKubernetesDiscovery(text));
    expect(run('promtool', ['check', 'config', local])).toContain('SUCCESS');
    const out = run('promtool', ['check', 'rules', rules as string]);
    expect(out).toMatch(/SUCCESS: \d+ rules found/);
  });

  it.runIf(toolAvailable('amtool'))('amtool accepts alertmanager.yml', () => {
    const [config] = find('/alertmanager/alertmanager.yml');
    expect(run('amtool', ['check-config', config as string])).toContain('SUCCESS');
  });
});
