import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, realpathSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { PROFILE_NAMES } from '../lib/config/profiles.js';
import { sourceDigest } from '../lib/diff/source-digest.js';
import { copyOfCheckout } from './support/checkout.js';
import { platformInProcess as run } from './support/cli.js';
import { readYaml } from './support/yaml.js';

/*
 * The built CLI (bundled from the sources by the suite's global setup), as a user runs it, where the
 * process is the behaviour: `npx platform` (exit 0, with the summary it prints), `cdk8s synth`,
 * `platform init` and `synth` with their default paths in a folder, and bad input's exit status (2;
 * findings' 1 from the built CLI is test/doctor.test.ts's). The rest runs the same main in-process
 * (test/support/cli.ts), which returns the exit code bin/platform.ts gives the process.
 */
const CLI = resolve(import.meta.dirname, '..', 'build', 'bin', 'platform.js');
const ROOT = resolve(import.meta.dirname, '..');
const scratch = mkdtempSync(join(tmpdir(), 'platform-cli-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function platform(args: string[], cwd = scratch) {
  return execa('node', [CLI, ...args], { cwd, reject: false });
}

describe('the platform command', () => {
  it('runs as `npx platform`, the README quick start: renders the embedded reference platform with no config and prints a summary', async () => {
    const out = join(scratch, 'npx');
    const result = await execa('npx', ['--offline', 'platform', 'synth', '--out', out], { cwd: ROOT, reject: false });
    expect(result.stderr.replace(/^npm warn .*\n?/gm, '')).toBe('');
    expect(result.exitCode).toBe(0);
    expect(existsSync(join(out, 'compose/README.md'))).toBe(true);
    expect(result.stdout).toContain('for example.com from <embedded reference platform>');
    expect(result.stdout).toMatch(/stacks: +9 stacks, 27 services/);
    expect(result.stdout).toMatch(/compose: +12 compose files, 63 files/);
    expect(result.stdout).toMatch(/k3s: +174 Kubernetes objects, 185 files/);
    expect(result.stdout).toContain('checks:  no errors, 16 warnings (platform validate shows them)');
    expect(result.stdout).toContain('note: rtx: 4 GPU services on 1 GPU(s), so the device plugin time-slices each GPU into 4');
    expect(result.stdout).toContain('GPU:     ollama -> rtx GPU 0');
    expect(result.stdout).toMatch(/wrote 248 files in \d+ ms/);
    // What to do next, for each tree written.
    expect(result.stdout).toContain(`next:\n  compose: read ${out}/compose/README.md (deploy order)`);
    expect(result.stdout).toContain(`kubectl apply -f ${out}/k3s/argocd/root.yaml`);
    // --target all is the default: both trees.
    expect(existsSync(join(out, 'compose/homelab/edge/compose.yaml'))).toBe(true);
    expect(existsSync(join(out, 'k3s/argocd/root.yaml'))).toBe(true);
  });
});

describe('the bundle (scripts/build.mjs, npm\'s prepare)', () => {
  it('leaves a bundle of the same sources alone, swaps a new one in by one rename (a CLI never finds half a build, or none), reuses a whole kept one, moves a build/ folder aside, and removes nothing while another build runs', async () => {
    // A copy of the sources (as git lists them) with this suite's bundle of them, as the bundler
    // leaves it: build -> .build/<digest>.
    const copy = copyOfCheckout(join(scratch, 'bundle'));
    const link = join(copy, 'build');
    const versions = join(copy, '.build');
    const first = readlinkSync(join(ROOT, 'build'));
    cpSync(join(ROOT, first), join(copy, first), { recursive: true });
    symlinkSync(first, link);
    const entryOf = (folder: string) => join(copy, folder, 'bin', 'platform.js');
    const bundle = () => execa('node', [join(copy, 'scripts', 'build.mjs')], { cwd: copy, reject: false });
    const kept = () => readdirSync(versions).sort();
    const nameOf = (target: string) => target.slice('.build/'.length);
    const before = lstatSync(entryOf(first)).ino;
    expect((await bundle()).exitCode).toBe(0);
    expect([readlinkSync(link), lstatSync(entryOf(first)).ino]).toEqual([first, before]);

    // Other sources, for which .build/ holds a folder that is not a whole bundle (no digest
    // recorded): it is not linked but built again. While the new bundle is made and swapped in,
    // build/ holds a whole bundle at every look, read as Node runs a program: the entry's real
    // path, then the chunks it imports beside it.
    const version = join(copy, 'lib', 'version.ts');
    const original = readFileSync(version, 'utf8');
    writeFileSync(version, `${original}\n// changed\n`);
    const second = `.build/${sourceDigest(copy)}`;
    mkdirSync(dirname(entryOf(second)), { recursive: true });
    writeFileSync(entryOf(second), 'half a bundle\n');
    const whole = () => {
      const entry = realpathSync(join(link, 'bin', 'platform.js'));
      const folder = dirname(dirname(entry));
      return existsSync(join(folder, 'source-digest')) && [...readFileSync(entry, 'utf8').matchAll(/from "\.\.\/(chunks\/[^"]+)"/g)].every((m) => existsSync(join(folder, m[1] as string)));
    };
    const running = bundle();
    let looks = 0;
    for (let done = false; !done; looks += 1) {
      done = await Promise.race([running.then(() => true), new Promise<boolean>((wait) => setTimeout(() => wait(false), 5))]);
      expect([looks, whole()]).toEqual([looks, true]);
    }
    expect([(await running).exitCode, looks > 10]).toEqual([0, true]);
    expect(readlinkSync(link)).toBe(second);
    expect(readFileSync(join(link, 'source-digest'), 'utf8').trim()).toBe(nameOf(second));
    expect((await execa('node', [join(link, 'bin', 'platform.js'), '--version'], { reject: false })).stdout).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
    // The bundle replaced stays (a CLI started from it may still load a chunk); nothing else is left.
    expect(kept()).toEqual([nameOf(first), nameOf(second)].sort());
    expect(readdirSync(copy).filter((name) => name.includes('build'))).toEqual(['.build', 'build']);

    // The first sources again: the bundle kept of them is linked, not built again.
    writeFileSync(version, original);
    expect((await bundle()).exitCode).toBe(0);
    expect([readlinkSync(link), lstatSync(entryOf(first)).ino]).toEqual([first, before]);

    // A build/ that is a folder (as this script made before it made links) is moved into .build/;
    // while another build runs (this test's process stands in for it), nothing is removed.
    unlinkSync(link);
    cpSync(join(copy, first), link, { recursive: true });
    writeFileSync(version, `${original}\n// changed\n`);
    const otherBuild = `running-${process.pid}`;
    writeFileSync(join(versions, otherBuild), '');
    expect((await bundle()).exitCode).toBe(0);
    expect(readlinkSync(link)).toBe(second);
    const moved = kept().find((name) => /^folder-\d+$/.test(name)) as string;
    expect(kept()).toEqual([nameOf(first), nameOf(second), moved, otherBuild].sort());
    // Once no other build runs, the next one removes what is neither linked nor replaced.
    rmSync(join(versions, otherBuild));
    writeFileSync(version, original);
    expect((await bundle()).exitCode).toBe(0);
    expect(readlinkSync(link)).toBe(first);
    expect(kept()).toEqual([nameOf(first), nameOf(second)].sort());
  });
});

describe('what the bundle holds', () => {
  // esbuild names each module it bundles in a `// node_modules/...` comment line.
  const modules = () => {
    const folder = join(ROOT, 'build');
    const files = readdirSync(folder, { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && e.name.endsWith('.js'));
    return files.flatMap((e) => [...readFileSync(join(e.parentPath, e.name), 'utf8').matchAll(/^\/\/ (node_modules\/\S+)$/gm)].map((m) => m[1] as string));
  };

  it("one YAML library: cdk8s's bundled copy gives way to the project's when they are the same version; zod's English messages only", () => {
    const bundled = modules();
    const version = (dir: string) => (JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8')) as { version: string }).version;
    const same = version('node_modules/yaml') === version('node_modules/cdk8s/node_modules/yaml');
    expect(bundled.filter((m) => m === 'node_modules/yaml/dist/index.js')).toHaveLength(1);
    expect(bundled.some((m) => m.startsWith('node_modules/cdk8s/node_modules/yaml/'))).toBe(!same);
    expect(bundled.filter((m) => m.includes('/locales/'))).toEqual(['node_modules/zod/v4/locales/en.js']);
  });
});

describe('platform synth', () => {
  it('--target k3s writes only the k3s tree and leaves an existing compose tree alone', async () => {
    const out = join(scratch, 'k3s-only');
    expect((await run(['synth', '--target', 'compose', '--out', out, '--quiet'])).exitCode).toBe(0);
    const compose = readFileSync(join(out, 'compose/homelab/edge/compose.yaml'), 'utf8');
    const result = await run(['synth', '--target', 'k3s', '--out', out]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).not.toContain('compose:');
    expect(readFileSync(join(out, 'compose/homelab/edge/compose.yaml'), 'utf8')).toBe(compose);
    expect(readdirSync(join(out, 'k3s')).sort()).toEqual(['README.md', 'apps', 'argocd', 'images', 'secrets', 'topology.mmd']);
    expect((await run(['synth', '--target', 'swarm'])).stderr).toContain('Allowed choices are all, compose, k3s.');
  });

  it('`cdk8s synth` through cdk8s.yaml writes exactly what `platform synth --target k3s` writes', async () => {
    const viaCdk8s = join(scratch, 'cdk8s', 'k3s');
    // The cdk8s CLI itself (node_modules/.bin/cdk8s, as README's `cdk8s synth`), not through npx: npm's start-up is 2 CPU-s and proves nothing here.
    const cdk8s = await execa(join(ROOT, 'node_modules', '.bin', 'cdk8s'), ['synth', '--output', viaCdk8s], {
      cwd: ROOT,
      reject: false,
      // The CLI's own upgrade check fetches the npm registry's latest version on every run: off (tests stay on loopback).
      env: { PLATFORM_CONFIG: 'test/fixtures/valid/optimal.yaml', CDK8S_CHECK_UPGRADE: 'false' },
    });
    expect(cdk8s.exitCode, cdk8s.stderr).toBe(0);
    const viaPlatform = join(scratch, 'platform-k3s');
    expect((await run(['synth', '-t', 'k3s', '-c', 'test/fixtures/valid/optimal.yaml', '--out', viaPlatform, '-q'])).exitCode).toBe(0);
    const tree = (dir: string) =>
      (readdirSync(dir, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
        .filter((e) => e.isFile())
        .map((e) => join(e.parentPath, e.name).slice(dir.length))
        .sort();
    const files = tree(viaCdk8s);
    expect(files).toEqual(tree(join(viaPlatform, 'k3s')));
    expect(files.length).toBeGreaterThan(100);
    for (const file of files) expect(readFileSync(join(viaCdk8s, file), 'utf8'), file).toBe(readFileSync(join(viaPlatform, 'k3s', file), 'utf8'));
  });

  it('exits 2 on a bad config, names file, line, key and value, and writes nothing', async () => {
    const out = join(scratch, 'bad');
    const result = await platform(['synth', '--config', 'test/fixtures/invalid/vlan-out-of-range.yaml', '--out', out], ROOT);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe(
      'error: invalid config\ntest/fixtures/invalid/vlan-out-of-range.yaml:3:10: zones.gpu.vlan: got 5000; must be a whole number from 1 to 4094',
    );
    expect(existsSync(out)).toBe(false);
  });

  it('keeps the previous output when a later run fails', async () => {
    const out = join(scratch, 'keep');
    expect((await run(['synth', '--out', out])).exitCode).toBe(0);
    const before = readFileSync(join(out, 'compose/homelab/edge/compose.yaml'), 'utf8');
    const beforeK3s = readFileSync(join(out, 'k3s/apps/edge/deployment-edge-caddy.yaml'), 'utf8');
    const bad = join(scratch, 'bad.yaml');
    writeFileSync(bad, 'exposure: internet\n');
    expect((await run(['synth', '--config', bad, '--out', out])).exitCode).toBe(2);
    expect(readFileSync(join(out, 'compose/homelab/edge/compose.yaml'), 'utf8')).toBe(before);
    // A config that only the k3s render rejects writes neither tree.
    writeFileSync(bad, 'k3s:\n  quotas:\n    gpu: { memoryLimitsGb: 8 }\n');
    const k3sOnly = await run(['synth', '--config', bad, '--out', out]);
    expect(k3sOnly.exitCode).toBe(2);
    expect(k3sOnly.stderr).toContain('k3s.quotas.gpu.memoryLimitsGb: got 8; the pods of zone "gpu" need');
    expect(readFileSync(join(out, 'compose/homelab/edge/compose.yaml'), 'utf8')).toBe(before);
    expect(readFileSync(join(out, 'k3s/apps/edge/deployment-edge-caddy.yaml'), 'utf8')).toBe(beforeK3s);
  });

  it('exits 2 for a missing config file and an unknown flavour', async () => {
    const missing = await run(['synth', '--config', 'nope.yaml']);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('nope.yaml: cannot read the config: no such file');
    const flavor = await run(['synth', '--flavor', 'swarm']);
    expect(flavor.exitCode).toBe(2);
    expect(flavor.stderr).toContain("error: option '-f, --flavor <flavor>' argument 'swarm' is invalid. Allowed choices are coolify, plain.");
  });

  it('writes the plain flavour with config files beside compose.yaml', async () => {
    const out = join(scratch, 'plain');
    expect((await run(['synth', '--flavor', 'plain', '--out', out, '--quiet'])).stdout).toBe('');
    expect(readdirSync(join(out, 'compose/homelab/monitoring/prometheus')).sort()).toEqual(['prometheus.yml', 'rules']);
  });
});

describe('platform init', () => {
  it.each(PROFILE_NAMES)('writes a commented starter for profile %s that synthesizes', async (profile) => {
    const dir = mkdtempSync(join(scratch, `init-${profile}-`));
    // The first profile through the built command in its folder (the default --out); the others in-process.
    const first = profile === PROFILE_NAMES[0];
    const init = first ? await platform(['init', '--profile', profile], dir) : await run(['init', '--profile', profile, '--out', join(dir, 'platform.yaml')]);
    expect(init.exitCode).toBe(0);
    const text = readFileSync(join(dir, 'platform.yaml'), 'utf8');
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=./platform.schema.json');
    expect(text).toContain(`profile: ${profile}`);
    expect(text).toContain('# Machines of the homelab, by name.');
    expect(readYaml(text)).toHaveProperty('nodes');
    expect(JSON.parse(readFileSync(join(dir, 'platform.schema.json'), 'utf8'))).toHaveProperty('properties.nodes');
    const synth = first
      ? await platform(['synth', '--config', 'platform.yaml', '--quiet'], dir)
      : await run(['synth', '--config', join(dir, 'platform.yaml'), '--out', join(dir, 'dist'), '--quiet']);
    expect(synth.stderr).toBe('');
    expect(synth.exitCode).toBe(0);
    expect(existsSync(join(dir, 'dist', 'compose'))).toBe(true);
    expect(existsSync(join(dir, 'dist', 'k3s'))).toBe(true);
  });

  it('refuses to overwrite an existing file without --force', async () => {
    const dir = mkdtempSync(join(scratch, 'init-twice-'));
    const file = join(dir, 'platform.yaml');
    expect((await run(['init', '--out', file])).exitCode).toBe(0);
    const again = await run(['init', '--out', file]);
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toContain('platform.yaml already exists; use --force to overwrite it');
    expect((await run(['init', '--out', file, '--force', '--profile', 'minimum'])).exitCode).toBe(0);
  });
});

describe('platform schema', () => {
  it('prints the JSON Schema of platform.yaml', async () => {
    const result = await run(['schema']);
    expect(result.exitCode).toBe(0);
    const schema = JSON.parse(result.stdout) as { title: string; properties: Record<string, unknown> };
    expect(schema.title).toBe('platform.yaml');
    expect(Object.keys(schema.properties)).toContain('apps');
  });

  it('prints its version (package.json\'s) with --version or -V, exit 0', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) expect(await run([flag])).toMatchObject({ exitCode: 0, stdout: version, stderr: '' });
  });
});

describe('platform validate', () => {
  it('checks the embedded reference with no config: warnings only, exit 0; --strict makes them fail', async () => {
    const result = await run(['validate']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('warning vram-budget: nodes.rtx.gpus[0]: GPU 0 of rtx (RTX 4090, 24 GB) may need 82.3 GB at once');
    expect(result.stdout).toMatch(/\n<embedded reference platform>: 0 errors, 16 warnings$/);
    expect((await run(['validate', '--strict'])).exitCode).toBe(1);
  });

  it('exits 1 on an error finding, with file, line, rule, path, message and fix', async () => {
    const bad = join(scratch, 'validate-bad.yaml');
    writeFileSync(bad, 'dns:\n  ipLookup: https://1.1.1.1/cdn-cgi/trace\n');
    const result = await run(['validate', '--config', bad, '--format', 'text']);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain(
      `${bad}:2:3: error sovereignty-third-party: dns.ipLookup: ddclient would talk to 1.1.1.1 (Cloudflare DNS) for public IP lookup: third-party inference and CDNs are ruled out\n  fix: `,
    );
  });

  it('reports config errors as findings (exit 1) and an unreadable file as bad input (exit 2)', async () => {
    const result = await run(['validate', '--config', 'test/fixtures/invalid/vlan-out-of-range.yaml', '--format', 'json']);
    expect(result.exitCode).toBe(1);
    expect(JSON.parse(result.stdout).findings).toEqual([
      {
        rule: 'config',
        severity: 'error',
        path: 'zones.gpu.vlan',
        message: 'got 5000; must be a whole number from 1 to 4094',
        fix: 'change the key as the message says',
        file: 'test/fixtures/invalid/vlan-out-of-range.yaml',
        line: 3,
        column: 10,
      },
    ]);
    const missing = await run(['validate', '--config', 'nope.yaml']);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('nope.yaml: cannot read the config');
  });

  it('--format sarif prints a SARIF log', async () => {
    const result = await run(['validate', '--format', 'sarif']);
    const log = JSON.parse(result.stdout);
    expect(log.version).toBe('2.1.0');
    expect(log.runs[0].results).toHaveLength(16);
  });
});

describe('platform synth runs the same checks', () => {
  it('refuses to write on an error finding and says why', async () => {
    const out = join(scratch, 'refused');
    const bad = join(scratch, 'origins.yaml');
    writeFileSync(bad, "services:\n  ollama:\n    env: { OLLAMA_ORIGINS: '*' }\n");
    const result = await run(['synth', '--config', bad, '--out', out]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe(
      `error: 1 error(s) in ${bad}; nothing written\n${bad}:3:12: error ollama-origins-wildcard: services.ollama.env.OLLAMA_ORIGINS: OLLAMA_ORIGINS=* lets any web page a user visits call Ollama from their browser\n  fix: list the origins that need it, e.g. https://chat.example.com, or remove the variable`,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('writes the topology beside each tree and shows it in the README', async () => {
    const out = join(scratch, 'topology');
    expect((await run(['synth', '--out', out, '--quiet'])).exitCode).toBe(0);
    for (const target of ['compose', 'k3s']) {
      expect(readFileSync(join(out, target, 'topology.mmd'), 'utf8')).toMatch(/^flowchart LR\n/);
      // The SVG is drawn only on request: Graphviz's layout grows faster than the platform.
      expect(existsSync(join(out, target, 'topology.svg'))).toBe(false);
      expect(readFileSync(join(out, target, 'README.md'), 'utf8')).toContain('## Topology\n\n```mermaid\nflowchart LR\n');
    }
  });
});

describe('platform graph', () => {
  it('prints mermaid by default and writes dot or svg to a file', async () => {
    const mermaid = await run(['graph']);
    expect(mermaid.exitCode).toBe(0);
    expect(mermaid.stdout).toMatch(/^flowchart LR\n/);
    const file = join(scratch, 'topology.svg');
    expect((await run(['graph', '--format', 'svg', '--out', file])).exitCode).toBe(0);
    expect(readFileSync(file, 'utf8')).toMatch(/<svg /);
    const dot = await run(['graph', '--format', 'dot', '--config', 'test/fixtures/valid/optimal.yaml']);
    expect(dot.stdout).toContain('"mochi" [label="mochi\\ngpu-a\\nGPU 0+1 RTX 4090 24 GB + RTX 4090 24 GB · model VRAM 22 GB"');
  });

  it('--detail draws a box per zone on request', async () => {
    const zones = await run(['graph', '--detail', 'zones']);
    expect(zones.exitCode).toBe(0);
    expect(zones.stdout).toContain('svc_gpu["gpu zone<br/>');
    expect(zones.stdout).not.toContain('svc_ollama[');
    expect((await run(['graph', '--detail', 'pods'])).stderr).toContain('Allowed choices are auto, services, stacks, zones.');
  });
});
