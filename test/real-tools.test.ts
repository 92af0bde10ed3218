import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { referenceConfig } from '../lib/config/load.js';
import { render } from '../lib/synth.js';
import { fixtureNames, loadFixture } from './support/render.js';
import { toolAvailable } from './support/tools.js';

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

function writePlainTree(name: string, load: () => ReturnType<typeof referenceConfig>): { dir: string; paths: string[] } {
  const dir = join(scratch, name);
  const { files } = render(load(), 'plain');
  for (const file of files) {
    const target = join(dir, file.path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, file.content);
  }
  return { dir, paths: files.map((f) => f.path) };
}

function run(tool: string, args: string[], env: Record<string, string> = {}): string {
  try {
    return execFileSync(tool, args, { encoding: 'utf8', stdio: 'pipe', env: { ...process.env, ...env } });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    throw new Error(`${tool} ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

describe.each(configs)('$name', ({ name, load }) => {
  const { dir, paths } = writePlainTree(name, load);
  const find = (suffix: string) => paths.filter((p) => p.endsWith(suffix)).map((p) => join(dir, p));

  it.runIf(toolAvailable('caddy'))('caddy validate accepts the Caddyfile', () => {
    const [caddyfile] = find('/caddy/Caddyfile');
    expect(caddyfile).toBeDefined();
    const hashes = Object.fromEntries(
      [...(run('cat', [caddyfile as string]).matchAll(/\{\$([A-Z0-9_]+)\}/g))].map((m) => [m[1] as string, BCRYPT]),
    );
    const home = join(scratch, `${name}-caddy-home`);
    mkdirSync(home, { recursive: true });
    const out = run('caddy', ['validate', '--adapter', 'caddyfile', '--config', caddyfile as string], { ...hashes, HOME: home, XDG_DATA_HOME: home, XDG_CONFIG_HOME: home });
    expect(out).toContain('Valid configuration');
  });

  it.runIf(toolAvailable('promtool'))('promtool accepts prometheus.yml and the alert rules', () => {
    const [config] = find('/prometheus/prometheus.yml');
    const [rules] = find('/prometheus/rules/alerts.yml');
    expect(config && rules).toBeTruthy();
    // Point rule_files at the rendered rules so `check config` checks them too.
    const local = join(dirname(config as string), 'prometheus.local.yml');
    writeFileSync(local, run('cat', [config as string]).replace('/etc/prometheus/rules/*.yml', rules as string));
    expect(run('promtool', ['check', 'config', local])).toContain('SUCCESS');
    const out = run('promtool', ['check', 'rules', rules as string]);
    expect(out).toMatch(/SUCCESS: \d+ rules found/);
  });

  it.runIf(toolAvailable('amtool'))('amtool accepts alertmanager.yml', () => {
    const [config] = find('/alertmanager/alertmanager.yml');
    expect(run('amtool', ['check-config', config as string])).toContain('SUCCESS');
  });
});
