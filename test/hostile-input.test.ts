import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import { Worker } from 'node:worker_threads';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { stringify } from 'yaml';
import { loadConfigFile, MAX_CONFIG_BYTES, parseConfig, readConfigText } from '../lib/config/load.js';
import { PROFILE_NAMES, PROFILES } from '../lib/config/profiles.js';
import { reportError } from '../lib/exit.js';
import { FILE_MODE, recoverTree, writeTree } from '../lib/output/writer.js';
import { checkOutput, synthesize, type SynthResult } from '../lib/synth.js';
import { validate } from '../lib/validate/validate.js';
import { compiledModule } from './support/build.js';
import { platformInProcess } from './support/cli.js';
import { toolAvailable } from './support/tools.js';
import { caddyfilePathForInstalledCaddy } from './support/caddy.js';
import { mulberry32 } from './support/prng.js';
import { readYamlAll } from './support/yaml.js';

/*
 * Hostile or mistaken input: nothing from platform.yaml runs as code, nothing is lost, and every
 * error is one line with exit code 2. The CLI runs from build/ (bundled from the sources by the
 * suite's global setup); the writer's child processes and worker thread import it compiled from
 * lib/output/writer.ts.
 */

const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'build', 'bin', 'platform.js');
const scratch = mkdtempSync(join(tmpdir(), 'platform-hostile-'));
const WRITER = compiledModule(join(ROOT, 'lib', 'output', 'writer.ts'), scratch);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function cli(args: string[], options: { input?: string; env?: Record<string, string>; timeout?: number } = {}) {
  const result = spawnSync('node', [CLI, ...args], { cwd: scratch, encoding: 'utf8', timeout: options.timeout ?? 60_000, env: { ...process.env, ...options.env } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, signal: result.signal };
}

/** One line, `error: ...`, exit 2, no stack trace. */
function expectOneLineError(result: { code: number | null; stderr: string; signal?: NodeJS.Signals | null }, pattern: RegExp): void {
  expect(result.signal ?? null).toBe(null);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  expect(result.stderr.trimEnd().split('\n').length).toBe(1);
  expect(result.stderr).toMatch(/^error: /);
  expect(result.stderr).toMatch(pattern);
  expect(result.code).toBe(2);
}

/** Every file below `dir`, with its mode: what a reader sees. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(dir)) return out;
  const walk = (folder: string, prefix: string) => {
    for (const entry of readdirSync(folder).sort()) {
      const full = join(folder, entry);
      const stat = statSync(full);
      if (stat.isDirectory()) {
        if (!entry.startsWith('.') || prefix !== '') walk(full, `${prefix}${entry}/`);
      } else out[`${prefix}${entry}`] = `${(stat.mode & 0o777).toString(8)} ${readFileSync(full, 'utf8')}`;
    }
  };
  walk(dir, '');
  return out;
}

function writeConfig(name: string, text: string): string {
  const file = join(scratch, name);
  writeFileSync(file, text);
  return file;
}

describe('the config is read safely', () => {
  it('refuses a FIFO without waiting for a writer', () => {
    const fifo = join(scratch, 'config.fifo');
    execFileSync('mkfifo', [fifo]);
    expectOneLineError(cli(['synth', '--config', fifo, '--out', join(scratch, 'fifo-out')], { timeout: 10_000 }), /config\.fifo: cannot read the config: not a regular file/);
  });

  it('refuses /dev/zero without reading it', () => {
    expectOneLineError(cli(['validate', '--config', '/dev/zero'], { timeout: 10_000 }), /\/dev\/zero: cannot read the config: not a regular file/);
  });

  it(`refuses a file over ${MAX_CONFIG_BYTES} bytes before parsing it`, () => {
    const file = writeConfig('huge.yaml', `# ${'x'.repeat(MAX_CONFIG_BYTES)}\n`);
    expect(() => loadConfigFile(file)).toThrow(/cannot read the config: 1048579 bytes; a platform.yaml is at most 1048576 bytes/);
  });

  it('refuses a YAML alias bomb with one line and exit 2', () => {
    const result = cli(['synth', '--config', join(ROOT, 'test/fixtures/invalid/alias-bomb.yaml'), '--out', join(scratch, 'bomb-out')]);
    expectOneLineError(result, /alias-bomb\.yaml: invalid YAML: Excessive alias count/);
    expect(existsSync(join(scratch, 'bomb-out'))).toBe(false);
  });

  it('reads a file whole when it holds more than its size says (a file growing while read; /proc reports 0)', () => {
    // /proc/self/cmdline: size 0 in stat, this process's command line when read (NUL-separated, valid UTF-8).
    expect(readConfigText('/proc/self/cmdline')).toBe(readFileSync('/proc/self/cmdline', 'utf8'));
    expect(readConfigText('/proc/self/cmdline').length).toBeGreaterThan(1);
  });

  it('refuses bytes that are not UTF-8', () => {
    const file = join(scratch, 'latin1.yaml');
    writeFileSync(file, Buffer.from([0x64, 0x6f, 0x6d, 0x61, 0x69, 0x6e, 0x3a, 0x20, 0xe9, 0x0a]));
    expect(() => loadConfigFile(file)).toThrow(/latin1\.yaml: cannot read the config: not UTF-8 text/);
  });
});

describe('command-line misuse: one line, exit 2, no stack trace', () => {
  const file = join(scratch, 'a-file');
  writeFileSync(file, 'x');
  const cases: [string, string[], RegExp][] = [
    ['synth --out a file', ['synth', '--out', file, '-q'], /cannot write .*a-file: it is a file, not a folder/],
    ['synth --out under a file', ['synth', '--out', join(file, 'dist'), '-q'], /a part of the path is a file, not a folder/],
    ['synth --out empty', ['synth', '--out', '', '-q'], /the output folder is empty/],
    ['init --out into a missing folder', ['init', '--out', join(scratch, 'missing/platform.yaml')], /the folder .*missing does not exist/],
    ['init --out onto a folder', ['init', '--out', scratch, '--force'], /it is a folder; name a file/],
    ['init --out under a file', ['init', '--out', join(file, 'platform.yaml')], /is a file, not a folder/],
    ['init --out empty', ['init', '--out', ''], /the output file name is empty/],
    ['graph --out into a missing folder', ['graph', '--out', join(scratch, 'missing/topology.mmd')], /the folder .*missing does not exist/],
    ['graph --out onto a folder', ['graph', '--out', scratch], /it is a folder; name a file/],
    ['graph --out under a file', ['graph', '--out', join(file, 'x.mmd')], /is a file, not a folder/],
    ['graph --out empty', ['graph', '--out', ''], /the output file name is empty/],
    ['diff of missing folders', ['diff', join(scratch, 'nope-a'), join(scratch, 'nope-b')], /nope-a: no such folder/],
    ['diff of a file', ['diff', file, file], /a-file: not a folder/],
    ['diff of folders that hold no rendered tree', ['diff', scratch, scratch], /holds no rendered tree/],
    ['--config naming a folder', ['validate', '--config', scratch], /cannot read the config: not a regular file/],
    ['--config naming a missing file', ['synth', '--config', join(scratch, 'nope.yaml')], /cannot read the config: no such file/],
  ];
  // In-process: the same main as the built command (the exit status of a real process is checked
  // by the FIFO and alias-bomb cases, and by cli.test.ts).
  it.each(cases)('%s', async (_name, args, pattern) => {
    const { exitCode: code, stderr } = await platformInProcess(args);
    expectOneLineError({ code, stderr }, pattern);
  });

  type Fault = { name: string; code: string; call: string; args: string[] };
  const FAULTS: Fault[] = [
    ...([
      ['EROFS', 'mkdirSync'],
      ['ENOSPC', 'writeFileSync'],
      ['EPERM', 'mkdirSync'],
      ['EACCES', 'linkSync'],
    ] as const).map(([code, call]) => ({
      name: `synth ${code}`,
      code,
      call,
      // The Compose tree alone: the first write fails either way, and cdk8s need not load.
      args: ['synth', '--target', 'compose', '--out', join(scratch, `fault-out-${code}`), '-q'],
    })),
    { name: 'init ENOSPC', code: 'ENOSPC', call: 'writeFileSync', args: ['init', '--out', join(scratch, 'fault-out-init.yaml')] },
    { name: 'graph ENOSPC', code: 'ENOSPC', call: 'writeFileSync', args: ['graph', '--out', join(scratch, 'fault-out-graph.mmd')] },
  ];

  /**
   * Run the built CLI once per fault, each with one fs call failing as the kernel would (read-only
   * disk, full disk, no permission) for paths under its `fault-out` output, all in one child process
   * (a Node start-up and a load of the CLI per fault was most of these tests' cost). Each run is a
   * fresh evaluation of build/bin/platform.js (a distinct URL), whose main reads process.argv, writes
   * its error to process.stderr (captured per run) and sets process.exitCode, read after each run.
   */
  let faultResults: { code: number | null; stderr: string }[] | undefined;
  function cliWithFaults(): { code: number | null; stderr: string }[] {
    if (faultResults) return faultResults;
    const script = `
      import fs from 'node:fs';
      import { syncBuiltinESMExports } from 'node:module';
      import { pathToFileURL } from 'node:url';
      const faults = ${JSON.stringify(FAULTS)};
      let fault;
      for (const call of new Set(faults.map((f) => f.call))) {
        const original = fs[call];
        fs[call] = (...a) => {
          if (fault?.call === call && String(a[0]).includes('fault-out')) {
            const err = new Error(fault.code + ': simulated, ' + call + " '" + a[0] + "'");
            Object.assign(err, { code: fault.code, syscall: call, path: String(a[0]) });
            throw err;
          }
          return original(...a);
        };
      }
      syncBuiltinESMExports();
      const results = [];
      const write = process.stderr.write;
      for (const [i, f] of faults.entries()) {
        fault = f;
        let stderr = '';
        process.stderr.write = (chunk) => ((stderr += String(chunk)), true);
        process.exitCode = undefined;
        process.argv = [process.argv[0], ${JSON.stringify(CLI)}, ...f.args];
        await import(pathToFileURL(${JSON.stringify(CLI)}).href + '?fault=' + i);
        process.stderr.write = write;
        results.push({ code: process.exitCode ?? 0, stderr });
      }
      process.exitCode = 0;
      process.stdout.write(JSON.stringify(results));
    `;
    const result = spawnSync('node', ['--input-type=module', '-e', script], { cwd: scratch, encoding: 'utf8', timeout: 60_000 });
    expect([result.status, result.signal, result.stderr]).toEqual([0, null, '']);
    faultResults = JSON.parse(result.stdout) as { code: number | null; stderr: string }[];
    return faultResults;
  }
  const faultResult = (name: string) => cliWithFaults()[FAULTS.findIndex((f) => f.name === name)] as { code: number | null; stderr: string };

  it.each([
    ['EROFS', 'mkdirSync', /the file system is read-only \(EROFS\)/],
    ['ENOSPC', 'writeFileSync', /no space left on the device \(ENOSPC\)/],
    ['EPERM', 'mkdirSync', /operation not permitted \(EPERM\)/],
    ['EACCES', 'linkSync', /permission denied \(EACCES\)/],
  ])('synth on a disk that answers %s (%s)', (code, call, pattern) => {
    expect(FAULTS.find((f) => f.name === `synth ${code}`)?.call).toBe(call);
    expectOneLineError(faultResult(`synth ${code}`), pattern);
  });

  it.each(['init', 'graph'])('%s --out on a full disk', (name) => {
    expectOneLineError(faultResult(`${name} ENOSPC`), /no space left on the device \(ENOSPC\)/);
  });
});

describe('the rendered tree on disk', () => {
  it('has folders 0755, files 0644 and scripts 0755: nothing rendered is secret', async () => {
    const out = join(scratch, 'modes');
    await synthesize(loadConfigFile(join(ROOT, 'test/fixtures/valid/reference-with-apps.yaml')), { target: 'all', flavor: 'plain', outDir: out });
    const modes = new Map<string, number>();
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir)) {
        const full = join(dir, entry);
        const stat = statSync(full);
        modes.set(full, stat.mode & 0o777);
        if (stat.isDirectory()) walk(full);
      }
    };
    walk(out);
    for (const [path, mode] of modes) {
      if (statSync(path).isDirectory()) expect([path, mode.toString(8)]).toEqual([path, '755']);
      else expect([path, mode.toString(8)]).toEqual([path, path.endsWith('.sh') ? '755' : '644']);
    }
    expect([...modes.keys()].filter((p) => p.endsWith('.sh')).length).toBeGreaterThanOrEqual(2);
  });

  it('synth --check notices a script that lost its executable bit', async () => {
    const out = join(scratch, 'check-mode');
    const loaded = loadConfigFile(join(ROOT, 'test/fixtures/valid/reference-with-apps.yaml'));
    await synthesize(loaded, { target: 'all', flavor: 'coolify', outDir: out });
    expect(await checkOutput(loaded, { target: 'all', flavor: 'coolify', outDir: out })).toEqual([]);
    chmodSync(join(out, 'k3s/secrets/create-secrets.sh'), 0o644);
    expect(await checkOutput(loaded, { target: 'all', flavor: 'coolify', outDir: out })).toEqual([{ path: 'k3s/secrets/create-secrets.sh', status: 'mode' }]);
    // Every permission bit counts: a setuid bit added by hand is stale too.
    chmodSync(join(out, 'k3s/secrets/create-secrets.sh'), 0o4755);
    expect(await checkOutput(loaded, { target: 'all', flavor: 'coolify', outDir: out })).toEqual([{ path: 'k3s/secrets/create-secrets.sh', status: 'mode' }]);
  });

  it('is a real folder (lstat), never a symbolic link; an unchanged re-run touches nothing', async () => {
    const out = join(scratch, 'real-folder');
    const loaded = loadConfigFile(join(ROOT, 'test/fixtures/valid/reference-with-apps.yaml'));
    await synthesize(loaded, { target: 'all', flavor: 'coolify', outDir: out });
    for (const target of ['compose', 'k3s']) expect([target, lstatSync(join(out, target)).isDirectory()]).toEqual([target, true]);
    expect(readdirSync(out).sort()).toEqual(['compose', 'k3s']);
    // Every entry's inode and change time: a skipped swap keeps them all.
    const identities = (dir: string) => {
      const seen: string[] = [];
      const walk = (folder: string) => {
        for (const entry of readdirSync(folder).sort()) {
          const stat = lstatSync(join(folder, entry));
          seen.push(`${join(folder, entry)} ${stat.ino} ${stat.ctimeMs} ${stat.mtimeMs}`);
          if (stat.isDirectory()) walk(join(folder, entry));
        }
      };
      walk(dir);
      return seen;
    };
    const before = identities(out);
    await synthesize(loaded, { target: 'all', flavor: 'coolify', outDir: out });
    expect(identities(out)).toEqual(before);
    // Only a mode differs: that is a change, and the tree is swapped back to the rendered modes.
    chmodSync(join(out, 'k3s/secrets/create-secrets.sh'), 0o644);
    await synthesize(loaded, { target: 'all', flavor: 'coolify', outDir: out });
    expect(statSync(join(out, 'k3s/secrets/create-secrets.sh')).mode & 0o777).toBe(0o755);
    expect(readdirSync(out).sort()).toEqual(['compose', 'k3s']);
  });

  it('replaces the symbolic link of the previous writer version with a real folder (migration)', async () => {
    const out = join(scratch, 'migrate');
    mkdirSync(join(out, '.compose.tree-0123456789abcdef/homelab'), { recursive: true });
    writeFileSync(join(out, '.compose.tree-0123456789abcdef/homelab/stale.yaml'), 'old\n');
    symlinkSync('.compose.tree-0123456789abcdef', join(out, 'compose'));
    mkdirSync(join(out, '.compose.tree-fedcba9876543210'));
    await synthesize(loadConfigFile(join(ROOT, 'test/fixtures/valid/reference-with-apps.yaml')), { target: 'compose', flavor: 'coolify', outDir: out });
    expect(lstatSync(join(out, 'compose')).isDirectory()).toBe(true);
    expect(existsSync(join(out, 'compose/homelab/stale.yaml'))).toBe(false);
    expect(existsSync(join(out, 'compose/homelab/networks.sh'))).toBe(true);
    expect(readdirSync(out)).toEqual(['compose']);
  });

  it('refuses a symbolic link it did not make', async () => {
    const out = join(scratch, 'foreign-link');
    mkdirSync(join(out, 'elsewhere'), { recursive: true });
    symlinkSync('elsewhere', join(out, 'compose'));
    const { exitCode: code, stderr } = await platformInProcess(['synth', '--config', join(ROOT, 'test/fixtures/valid/reference-with-apps.yaml'), '--target', 'compose', '--out', out]);
    expectOneLineError({ code, stderr }, /it is a symbolic link to elsewhere, which platform synth did not make/);
    expect(readlinkSync(join(out, 'compose'))).toBe('elsewhere');
  });
});

/**
 * A tree of `count` files whose contents name `version`, so a reader can tell a mixed tree, except
 * every third, which is the same in every version (the writer hard-links those from the old tree).
 */
function versionTree(version: string, count: number): { path: string; content: string; mode?: number }[] {
  return Array.from({ length: count }, (_, i) => ({
    path: `${i % 3 === 0 ? 'a' : 'b'}/${version === 'old' && i === count - 1 ? 'only-old' : `file-${i}`}.txt`,
    content: i % 3 === 1 ? `unchanged ${i}\n` : `${version} ${i}\n`,
    mode: i === 0 ? 0o755 : undefined,
  }));
}

/** Steps of a writer run: the file-system changes it makes, counted by wrapping fs. */
const MUTATING_CALLS = ['renameSync', 'symlinkSync', 'linkSync', 'mkdirSync', 'writeFileSync', 'chmodSync', 'rmSync'];

/** Write a tree from a child process that SIGKILLs itself at its `killAt`-th file-system change (0: never). */
function writeInChild(out: string, version: string, killAt: number): { code: number | null; signal: NodeJS.Signals | null; steps: number } {
  const script = `
    import fs from 'node:fs';
    import { syncBuiltinESMExports } from 'node:module';
    let steps = 0;
    for (const name of ${JSON.stringify(MUTATING_CALLS)}) {
      const original = fs[name];
      fs[name] = (...args) => {
        steps += 1;
        if (steps === ${killAt}) process.kill(process.pid, 'SIGKILL');
        return original(...args);
      };
    }
    syncBuiltinESMExports();
    const { writeTree } = await import(${JSON.stringify(WRITER)});
    writeTree(${JSON.stringify(out)}, 'compose', ${JSON.stringify(versionTree(version, 7))});
    process.stdout.write(String(steps));
  `;
  const result = spawnSync('node', ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  return { code: result.status, signal: result.signal, steps: Number(result.stdout || 0) };
}

/**
 * The same runs, killed at the same steps, in one worker thread instead of a process per kill point
 * (a Node start-up per kill point was most of this test's cost). What a killed run leaves on disk
 * is the file-system changes it made before the kill and none after: from its `killAt`-th change
 * on, every change the worker's writer attempts fails without touching the disk (a dead process
 * changes nothing more), whatever its error handling then tries. A worker has its own `fs` and
 * `process`, so wrapping them changes nothing in the test's thread; its `process.pid`, which the
 * writer puts in its lock, is one above Linux's PID_MAX_LIMIT (2^22, include/linux/threads.h): a
 * process that is never alive, as the next run finds the lock of a SIGKILLed one. The test
 * SIGKILLs a real process too (writeInChild) and checks it leaves the same.
 */
class KillableWriter {
  private readonly worker: Worker;
  private readonly ready: Promise<void>;

  constructor() {
    this.worker = new Worker(
      `
      const { parentPort } = require('node:worker_threads');
      const fs = require('node:fs');
      const { syncBuiltinESMExports } = require('node:module');
      Object.defineProperty(process, 'pid', { value: ${2 ** 22 + 1} });
      let steps = 0;
      let killAt = 0;
      let dead = false;
      for (const name of ${JSON.stringify(MUTATING_CALLS)}) {
        const original = fs[name];
        fs[name] = (...args) => {
          if (!dead) steps += 1;
          if (steps === killAt) dead = true;
          if (dead) throw new Error('killed: this run makes no more changes');
          return original(...args);
        };
      }
      syncBuiltinESMExports();
      import(${JSON.stringify(WRITER)}).then(({ writeTree }) => {
        parentPort.on('message', (run) => {
          steps = 0;
          killAt = run.killAt;
          dead = false;
          let error;
          try {
            writeTree(run.out, 'compose', run.files);
          } catch (err) {
            if (!dead) error = String(err.stack);
          }
          parentPort.postMessage({ killed: dead, steps, error });
        });
        parentPort.postMessage('ready');
      });
      `,
      { eval: true },
    );
    this.ready = new Promise((done, fail) => {
      this.worker.once('error', fail);
      this.worker.once('message', () => done());
    });
  }

  /** Write `version`'s tree into `out`, killed at the `killAt`-th file-system change (0: never). */
  async write(out: string, version: string, killAt: number): Promise<{ killed: boolean; steps: number }> {
    await this.ready;
    const result = await new Promise<{ killed: boolean; steps: number; error?: string }>((done) => {
      this.worker.once('message', done);
      this.worker.postMessage({ out, killAt, files: versionTree(version, 7) });
    });
    if (result.error) throw new Error(`the writer failed without being killed: ${result.error}`);
    return { killed: result.killed, steps: result.steps };
  }

  close(): Promise<number> {
    return this.worker.terminate();
  }
}

/**
 * Everything in `out` (hidden siblings too, with the run's pid and random suffix in their names
 * and in the lock left out): what two runs killed at the same step must have left alike.
 */
function stateOf(out: string): Record<string, unknown> {
  const state: Record<string, unknown> = {};
  for (const entry of readdirSync(out).sort()) {
    const name = entry.replace(/-\d+(-[0-9a-f]{8})?$/, '-<run>');
    const full = join(out, entry);
    state[name] = lstatSync(full).isDirectory() ? snapshot(full) : readFileSync(full, 'utf8').replace(/^\d+\n$/, '<pid>');
  }
  return state;
}

describe('atomic swap: <out>/compose is a real folder holding the whole old or the whole new tree', () => {
  const expected = (version: string) => Object.fromEntries(versionTree(version, 7).map((f) => [f.path, `${(f.mode ?? 0o644).toString(8)} ${f.content}`]));
  const isWhole = (tree: Record<string, string>) => [expected('old'), expected('new')].some((whole) => isDeepStrictEqual(tree, whole));

  it('a run killed at each of its file-system steps leaves the whole old tree, the whole new one, or the recoverable between-renames state; the next run completes it and cleans up', async () => {
    const out = join(scratch, 'killed');
    const writer = new KillableWriter();
    onTestFinished(() => void writer.close());
    expect((await writer.write(out, 'old', 0)).killed).toBe(false);
    // Steps of a run that replaces an existing tree (the kind of run killed below).
    const counting = join(scratch, 'count');
    const first = await writer.write(counting, 'old', 0);
    expect(first.killed).toBe(false);
    const { steps } = await writer.write(counting, 'new', 0);
    expect(steps).toBeGreaterThan(10);
    // A process makes the same changes as the worker (the same steps, counted the same way).
    expect(writeInChild(join(scratch, 'count-child'), 'old', 0)).toEqual({ code: 0, signal: null, steps: first.steps });
    const outcomes = new Map<string, number>();
    /** The kill points of each outcome, with what each left: some are re-done below with a real SIGKILL. */
    const killedAt = new Map<string, { killAt: number; state: Record<string, unknown> }[]>();
    for (let killAt = 1; killAt <= steps + 2; killAt += 1) {
      const run = await writer.write(out, 'new', killAt);
      expect([killAt, run.killed || killAt > steps]).toEqual([killAt, true]);
      let outcome: string;
      const left = stateOf(out);
      if (existsSync(join(out, 'compose'))) {
        expect([killAt, lstatSync(join(out, 'compose')).isDirectory()]).toEqual([killAt, true]);
        expect([killAt, isWhole(snapshot(join(out, 'compose')))]).toEqual([killAt, true]);
        outcome = isDeepStrictEqual(snapshot(join(out, 'compose')), expected('old')) ? 'old' : 'new';
      } else {
        // Only between the two renames: both whole trees beside the missing folder.
        expect([killAt, snapshot(join(out, '.compose.previous'))]).toEqual([killAt, expected('old')]);
        expect([killAt, snapshot(join(out, '.compose.next'))]).toEqual([killAt, expected('new')]);
        outcome = 'between';
        // A reader (synth --check, diff) finishes the swap before reading.
        recoverTree(out, 'compose');
        expect([killAt, snapshot(join(out, 'compose'))]).toEqual([killAt, expected('new')]);
        expect([killAt, readdirSync(out).sort()]).toEqual([killAt, ['compose']]);
      }
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      if (run.killed) killedAt.set(outcome, [...(killedAt.get(outcome) ?? []), { killAt, state: left }]);
      // The next run (back to the old tree for the next kill point) leaves one whole folder and nothing else.
      // It runs in this process: the same writer, without a second Node start-up per kill point.
      writeTree(out, 'compose', versionTree('old', 7));
      expect([killAt, snapshot(join(out, 'compose'))]).toEqual([killAt, expected('old')]);
      expect([killAt, lstatSync(join(out, 'compose')).isDirectory(), readdirSync(out)]).toEqual([killAt, true, ['compose']]);
    }
    // Every outcome was reached: the kill points cover the swap's two renames.
    expect([...outcomes.keys()].sort()).toEqual(['between', 'new', 'old']);
    // A real process SIGKILLed at the middle kill point of each outcome (for `old`: the new tree
    // half-written beside it) leaves exactly what the worker's killed run left there, and the next
    // run completes it.
    expect([...killedAt.keys()].sort()).toEqual(['between', 'new', 'old']);
    for (const [outcome, points] of killedAt) {
      const { killAt, state } = points[Math.floor(points.length / 2)] as (typeof points)[number];
      const real = join(scratch, `killed-for-real-${outcome}`);
      expect((await writer.write(real, 'old', 0)).killed).toBe(false);
      expect([outcome, writeInChild(real, 'new', killAt).signal]).toEqual([outcome, 'SIGKILL']);
      expect([outcome, stateOf(real)]).toEqual([outcome, state]);
      writeTree(real, 'compose', versionTree('old', 7));
      expect([outcome, snapshot(join(real, 'compose')), readdirSync(real)]).toEqual([outcome, expected('old'), ['compose']]);
    }
  }, 600_000);

  it('an unchanged re-run changes nothing on disk, not even a lock file left behind', () => {
    // In this process: the writer a child runs (a real process's runs are checked above and below).
    const out = join(scratch, 'unchanged');
    writeTree(out, 'compose', versionTree('old', 7));
    const before = lstatSync(join(out, 'compose/a/file-0.txt'));
    writeTree(out, 'compose', versionTree('old', 7));
    expect(lstatSync(join(out, 'compose/a/file-0.txt')).ino).toBe(before.ino);
    expect(readdirSync(out)).toEqual(['compose']);
  });

  it('concurrent runs take turns: each exits 0, the result is one whole real folder, nothing is left behind', async () => {
    const out = join(scratch, 'concurrent');
    const { spawn } = await import('node:child_process');
    const runs = ['old', 'new', 'old', 'new'].map(
      (version) =>
        new Promise<number | null>((done) => {
          const script = `const { writeTree } = await import(${JSON.stringify(WRITER)}); for (let i = 0; i < 5; i++) writeTree(${JSON.stringify(out)}, 'compose', ${JSON.stringify(versionTree(version, 7))});`;
          spawn('node', ['--input-type=module', '-e', script], { stdio: 'inherit' }).on('exit', done);
        }),
    );
    expect(await Promise.all(runs)).toEqual([0, 0, 0, 0]);
    expect(isWhole(snapshot(join(out, 'compose')))).toBe(true);
    expect(readdirSync(out)).toEqual(['compose']);
    expect(lstatSync(join(out, 'compose')).isDirectory()).toBe(true);
  }, 300_000);
});

describe('secret-looking literals are refused', () => {
  const app = (env: Record<string, string>) => `apps:\n  api:\n    image: ghcr.io/you/api:1.0.0\n    port: 3001\n    env:\n${Object.entries(env).map(([k, v]) => `      ${k}: ${JSON.stringify(v)}\n`).join('')}`;
  it.each([
    ['DATABASE_URL', 'postgres://app:hunter2@postgres:5432/app'],
    ['AWS_SECRET_ACCESS_KEY', 'wJalrXUtnFEMI/K7MDENG'],
    ['TS_AUTHKEY', 'tskey-auth-123'],
    ['LITELLM_MASTER_KEY', 'sk-123'],
    ['WEBUI_SECRET_KEY', 'x'],
    ['S3_ACCESS_KEY', 'AKIA123'],
    ['ADMIN_PASSWORD_HASH', '$2a$14$abc'],
    ['SENTRY_DSN', 'https://abc@o1.ingest.example/1'],
    ['REDIS_URL', 'redis://:hunter2@valkey:6379'],
  ])('apps.api.env.%s', async (key, value) => {
    const file = writeConfig(`literal-${key}.yaml`, app({ [key]: value }));
    const result = await validate(() => loadConfigFile(file));
    expect(result.findings.filter((f) => f.rule === 'secret-literal').map((f) => f.path.join('.'))).toEqual([`apps.api.env.${key}`]);
  });

  it('a URL whose password is a secret reference is fine', async () => {
    const file = writeConfig('literal-ok.yaml', `${app({ DATABASE_URL: 'postgres://app:${PG_PASSWORD}@postgres:5432/app' })}    secrets: [PG_PASSWORD]\n`);
    const result = await validate(() => loadConfigFile(file));
    expect(result.findings.filter((f) => f.rule === 'secret-literal')).toEqual([]);
  });

  it.each([
    ['open-webui', 'WEBUI_SECRET_KEY'],
    ['litellm', 'LITELLM_MASTER_KEY'],
    ['grafana', 'GF_SECURITY_ADMIN_PASSWORD'],
    ['minio', 'MINIO_ROOT_PASSWORD'],
    ['technitium', 'DNS_SERVER_ADMIN_PASSWORD'],
    ['caddy', 'COMFYUI_BASIC_AUTH_HASH'],
  ])('services.%s.env.%s, which the platform fills from a secret, cannot be overridden even by a reference', (service, key) => {
    const text = `services:\n  ${service}:\n    env:\n      ${key}: "\${${key}}"\n`;
    const run = () => synthesize(parseConfig(text, 'platform.yaml'), { target: 'compose', flavor: 'coolify', outDir: join(scratch, 'never') });
    return expect(run()).rejects.toThrow(new RegExp(`platform\\.yaml:4:7: services\\.${service}\\.env\\.${key}: ${key} is filled from a secret the platform manages`));
  });
});

/* ---------------------------------------------------------------------------------------------
 * Generated input: a fixed seed, hundreds of configs across all five profiles, each with hostile
 * or odd values in the keys whose text reaches a script, a config file, a path or an object name.
 * Each must give exit 0 with output that passes the real parsers and keeps every value as data
 * (scripts run with their commands stubbed never run the payload), or exit 2 naming file:line
 * and the key, with the previous output byte-identical. Never a stack trace, a hang or exit 1.
 * ------------------------------------------------------------------------------------------- */

const MARKER = join(scratch, 'PWNED');
const PAYLOADS: readonly unknown[] = [
  `$(touch ${MARKER})`,
  `\`touch ${MARKER}\``,
  `; touch ${MARKER}`,
  `\ntouch ${MARKER}\n`,
  `' ; touch ${MARKER} ; '`,
  `" ; touch ${MARKER} ; "`,
  `&& touch ${MARKER}`,
  `| touch ${MARKER}`,
  '${PG_PASSWORD}',
  '$$HOME',
  '{env.HOME}',
  '}\nimport /etc/passwd\n{',
  ',server=evil.example',
  ' server=evil.example',
  '../../etc',
  '/cold-storage/../../etc',
  '/',
  '.',
  'x'.repeat(300),
  'Ü',
  '\u0000',
  '\r',
  '\u2028',
  '#',
  '',
  ' ',
  '-',
  '*',
  '~',
  42,
  -1,
  true,
  null,
  ['a'],
  { a: 1 },
];
/** Values that are fine, so some cases render. */
const GOOD: Readonly<Record<string, readonly unknown[]>> = {
  description: ['lab network', 'GPU & video (VLAN 30)', 'Überwachung'],
  modelName: ['llama3.2:3b', 'hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M', 'qwen2.5-coder:7b'],
  repoPath: ['sealed', 'clusters/home/sealed-secrets', 'a.b_c-d'],
  argocdPath: ['dist/k3s', 'deploy/k3s'],
  repoURL: ['https://git.example.com/me/homelab.git', 'git@github.com:me/homelab.git'],
  revision: ['main', 'v1.2.3', 'release/2024-10'],
  url: ['https://ifconfig.me', 'http://192.168.1.1:8080/ip'],
  hostPath: ['/srv/data', '/mnt/cold-storage/platform'],
  keepAlive: ['10m', '1h30m', '-1', '0', '300'],
  image: ['ghcr.io/you/api:1.2.3', 'registry.local:5000/api:2.0.0', 'caddy:2.8.4'],
  envKey: ['EXTRA_SETTING', 'feature_flag', '_X'],
  envValue: ['plain', 'a b c', 'price: $5', 'x=y,z', 'quote " and \' and `tick`'],
  healthPath: ['/health', '/api/v1/ping?full=1', '/'],
  secret: ['API_TOKEN', 'S3_KEY_2'],
  appName: ['api', 'web-front', 'grafana2x', 'caddy-entry', 'postgres-data', 'default-deny', 'vlan-10'],
  arg: ['--port', '8000', 'a b', 'price: $5', '--flag=$(NOT_EXPANDED)'],
  volumeName: ['data', 'model-cache'],
  portName: ['http', 'api-v2', 'grpc'],
  topic: ['alerts', 'home_lab-1'],
  user: ['admin', 'ops-team'],
  gpuModel: ['RTX 4090', 'RTX A6000 (48 GB)'],
};

type Mutation = (config: Record<string, any>, value: unknown) => void;
const pick = <T,>(rnd: () => number, list: readonly T[]): T => list[Math.floor(rnd() * list.length)] as T;
const firstKey = (o: Record<string, unknown> | undefined) => Object.keys(o ?? {})[0];
const ensureApp = (c: Record<string, any>) => {
  c.apps ??= {};
  c.apps.api ??= { image: 'ghcr.io/you/api:1.0.0', port: 3001, route: { host: 'api' } };
  return c.apps.api;
};
const MUTATIONS: readonly (readonly [string, keyof typeof GOOD, Mutation])[] = [
  ['zones.<z>.description', 'description', (c, v) => {
    c.zones ??= structuredClone(REFERENCE_ZONES);
    c.zones[firstKey(c.zones) as string].description = v;
  }],
  ['models.ollama[0].name', 'modelName', (c, v) => {
    c.models ??= {};
    c.models.ollama = [{ name: v, vramGb: 1, mode: 'chat' }];
  }],
  ['models.ollama[0].alias', 'modelName', (c, v) => {
    c.models ??= {};
    c.models.ollama = [{ name: 'llama3.2:3b', alias: v, vramGb: 1, mode: 'chat' }];
  }],
  ['k3s.sealedSecretsPath', 'repoPath', (c, v) => ((c.k3s ??= {}).sealedSecretsPath = v)],
  ['k3s.argocd.path', 'argocdPath', (c, v) => (((c.k3s ??= {}).argocd ??= {}).path = v)],
  ['k3s.argocd.repoURL', 'repoURL', (c, v) => (((c.k3s ??= {}).argocd ??= {}).repoURL = v)],
  ['k3s.argocd.targetRevision', 'revision', (c, v) => (((c.k3s ??= {}).argocd ??= {}).targetRevision = v)],
  ['dns.ipLookup', 'url', (c, v) => ((c.dns ??= {}).ipLookup = v)],
  ['storage.root', 'hostPath', (c, v) => (c.storage = { mode: 'bind', root: v })],
  ['ollama.keepAlive', 'keepAlive', (c, v) => ((c.ollama ??= {}).keepAlive = v)],
  ['images.caddy', 'image', (c, v) => ((c.images ??= {}).caddy = v)],
  ['apps.api.image', 'image', (c, v) => (ensureApp(c).image = v)],
  ['apps.api.env value', 'envValue', (c, v) => (ensureApp(c).env = { EXTRA: v })],
  ['apps.api.env key', 'envKey', (c, v) => (ensureApp(c).env = { [String(v)]: 'x' })],
  ['apps.api.healthPath', 'healthPath', (c, v) => (ensureApp(c).healthPath = v)],
  ['apps.api.secrets', 'secret', (c, v) => (ensureApp(c).secrets = [v])],
  ['apps.<name>', 'appName', (c, v) => ((c.apps ??= {})[String(v)] = { image: 'ghcr.io/you/x:1.0.0', port: 8080 })],
  ['apps.api.command', 'arg', (c, v) => (ensureApp(c).command = ['run', v])],
  ['apps.api.args', 'arg', (c, v) => (ensureApp(c).args = [v])],
  ['apps.api.health.command', 'arg', (c, v) => (ensureApp(c).health = { command: ['check', v] })],
  ['apps.api.metrics.path', 'healthPath', (c, v) => (ensureApp(c).metrics = { path: v })],
  ['apps.api.volumes[0].name', 'volumeName', (c, v) => (ensureApp(c).volumes = [{ name: v, mountPath: '/data' }])],
  ['apps.api.volumes[0].mountPath', 'hostPath', (c, v) => (ensureApp(c).volumes = [{ name: 'data', mountPath: v }])],
  ['apps.api.volumes[0].hostPath', 'hostPath', (c, v) => (ensureApp(c).volumes = [{ hostPath: v, mountPath: '/data' }])],
  ['apps.api.ports[0].name', 'portName', (c, v) => {
    const app = ensureApp(c);
    delete app.port;
    app.ports = [{ name: v, port: 3001 }];
  }],
  ['apps.site.root', 'hostPath', (c, v) => ((c.apps ??= {}).site = { kind: 'static', root: v, route: { host: 'site' } })],
  ['services.grafana.env value', 'envValue', (c, v) => ((c.services ??= {}).grafana = { ...(c.services.grafana ?? {}), env: { GF_EXTRA: v } })],
  ['monitoring.ntfyTopic', 'topic', (c, v) => ((c.monitoring ??= {}).ntfyTopic = v)],
  ['basicAuthUser', 'user', (c, v) => (c.basicAuthUser = v)],
  ['nodes.<n>.gpus[0].model', 'gpuModel', (c, v) => {
    const gpuNode = Object.values(c.nodes as Record<string, any>).find((n) => (n.gpus ?? []).length > 0);
    if (gpuNode) gpuNode.gpus[0].model = v;
  }],
];
const REFERENCE_ZONES = {
  dmz: { vlan: 10, subnet: '10.0.10.0/24' },
  edge: { vlan: 20, subnet: '10.0.20.0/24' },
  gpu: { vlan: 30, subnet: '10.0.30.0/24', isolated: true },
  services: { vlan: 40, subnet: '10.0.40.0/24', isolated: true },
  monitoring: { vlan: 50, subnet: '10.0.50.0/24', isolated: true },
};

/**
 * The commands the rendered scripts call that are stubbed; everything else they run is the real
 * shell and tools. mkdir, chown and chmod too: storage.sh makes and re-owns the node's data folders
 * (`/srv/data/...`, whatever storage.root a case sets), which on the test machine would be real
 * folders outside the scratch folder. A value run as code still shows: the payloads `touch` the
 * marker, and touch is the real one.
 */
const STUBBED = ['docker', 'kubectl', 'kubeseal', 'ollama', 'apk', 'aria2c', 'wget', 'curl', 'python3', 'pip', 'git', 'huggingface-cli', 'mkdir', 'chown', 'chmod'];
/** What each stub does: `docker network inspect` fails so networks.sh takes its create branch; every other call succeeds. */
const stubBody = (end: 'exit' | 'return') => `if [ "$1 $2" = "network inspect" ]; then ${end} 1; fi; ${end} 0`;

/**
 * Stub commands for the rendered scripts: an executable per command in a folder put first on PATH,
 * and the same stubs as shell functions in `stub-functions.sh`, which the script runner loads
 * before the script so that a stubbed call costs a fork but no exec of a new shell
 * (the scripts call some stubs once per item: networks.sh docker per network, create-secrets.sh
 * kubeseal per Secret; an exec was most of each call's cost). A
 * function is found before PATH; a call that bypasses functions (`exec`, `env`, `xargs`) and
 * huggingface-cli (not a valid sh function name) still reach the executable, which does the same.
 */
function stubBin(): { bin: string; functions: string } {
  const bin = join(scratch, 'stub-bin');
  mkdirSync(bin, { recursive: true });
  for (const name of STUBBED) writeFileSync(join(bin, name), `#!/bin/sh\n${stubBody('exit')}\n`, { mode: 0o755 });
  const functions = join(scratch, 'stub-functions.sh');
  writeFileSync(functions, STUBBED.filter((name) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(name)).map((name) => `${name}() { ${stubBody('return')}; }\n`).join(''));
  return { bin, functions };
}

/** `Kind/namespace/name` of each Kubernetes object among parsed documents. */
function identities(documents: readonly unknown[]): string[] {
  return (documents as { kind?: string; metadata?: { name?: string; namespace?: string } }[])
    .filter((o) => o?.kind)
    .map((o) => `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`);
}

/** Every `sh -c` script of the rendered one-shot containers (Compose and k3s) in parsed documents, `$$` read back as `$`. */
function inlineScripts(documents: readonly unknown[]): string[] {
  const scripts: string[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (node && typeof node === 'object') {
      const o = node as Record<string, unknown>;
      const entry = (o.entrypoint ?? o.command) as unknown;
      const args = (o.entrypoint ? o.command : o.args) as unknown;
      if (Array.isArray(entry) && entry[0] === '/bin/sh' && entry[1] === '-c') {
        const script = entry.length > 2 ? entry[2] : Array.isArray(args) ? args[0] : undefined;
        if (typeof script === 'string') scripts.push(script.replaceAll('$$', '$'));
      }
      Object.values(o).forEach(visit);
    }
  };
  documents.forEach(visit);
  return scripts;
}

describe('generated hostile configs (seed 11): exit 0 with output that stays data, or exit 2 naming the key', () => {
  const rnd = mulberry32(11);
  const CASES = Number(process.env.HOSTILE_CASES ?? 300);
  const timing = { render: 0, snapshot: 0, parse: 0, scripts: 0 };
  const configFile = 'platform.yaml';
  const { bin, functions: stubFunctions } = stubBin();
  /** The command that runs one script with the stubs: see the runner's comment below. */
  const runScript = (shell: string, path: string) => `${shell} -c 'cd "${scratch}" || exit; . "${stubFunctions}"; . "$0"' '${path}'`;

  it('runs a script as sh <file> would, in the scratch folder, with the stubs as functions', () => {
    const probe = join(scratch, 'probe.sh');
    writeFileSync(probe, 'set -eu\necho "$0"\npwd\nkubectl apply --filename - && echo applied\ncommand -V kubectl | head -1\ndocker network inspect x || echo "inspect failed"\n');
    const ran = spawnSync('sh', ['-c', runScript('sh', probe)], { encoding: 'utf8', env: { PATH: `${bin}:${process.env.PATH}` } });
    expect([ran.status, ran.stderr, ran.stdout.split('\n')]).toEqual([0, '', [probe, scratch, 'applied', 'kubectl is a shell function', 'inspect failed', '']]);
  });
  const tally = { rendered: 0, refused: 0, refusedBySynth: 0 };
  /** Kubernetes identities (kind/namespace/name) of each distinct k3s file content. */
  const identitiesOf = new Map<string, string[]>();

  it(`runs ${CASES} cases in-process across ${PROFILE_NAMES.length} profiles`, async () => {
    // Each rendered case writes and swaps in a whole tree (hundreds of files): in the run's temp
    // folder, on a RAM-backed file system when the machine has one (test/support/build.ts).
    const out = join(scratch, 'generated-out');
    // A baseline tree the refused cases must leave byte-identical.
    await synthesize(parseConfig(stringify(PROFILES.recommended.config), configFile), { target: 'all', flavor: 'plain', outDir: out });
    // What is on disk, as snapshot() reads it: after this, each rendered case's files (the writer
    // writes exactly what was rendered, which each refused case's comparison with the disk checks).
    const previous = snapshot(out);
    let caddyChecked = 0;
    /** The contents already checked, by path, and the inline scripts already run (strings compare faster than they hash). */
    const checkedFiles = new Map<string, Set<string>>();
    const ranInline = new Set<string>();
    for (let n = 0; n < CASES; n += 1) {
      const profile = PROFILE_NAMES[n % PROFILE_NAMES.length] as (typeof PROFILE_NAMES)[number];
      const config = structuredClone(PROFILES[profile].config) as Record<string, any>;
      const picked = [pick(rnd, MUTATIONS)];
      if (rnd() < 0.3) picked.push(pick(rnd, MUTATIONS));
      const labels: string[] = [];
      for (const [label, kind, mutate] of picked) {
        const good = pick(rnd, GOOD[kind] as readonly unknown[]);
        const roll = rnd();
        const payload = pick(rnd, PAYLOADS);
        const value = roll < 0.25 ? good : roll < 0.65 || typeof good !== 'string' || typeof payload !== 'string' ? payload : `${good}${payload}`;
        mutate(config, value);
        labels.push(`${label}=${JSON.stringify(value)}`);
      }
      const text = stringify(config);
      const name = `case ${n} (${profile}): ${labels.join(', ')}`;
      let code = 0;
      let message = '';
      let outputs: SynthResult['outputs'] = [];
      /** Whether synth ran: a config the schema refuses is refused before it, by this test's own parseConfig. */
      let synthRan = false;
      let t = performance.now();
      try {
        // Both targets when a k3s key changed and for every fourth case; Compose alone otherwise (speed).
        const target = labels.some((l) => l.startsWith('k3s.')) || n % 4 === 0 ? 'all' : 'compose';
        const loaded = parseConfig(text, configFile);
        synthRan = true;
        ({ outputs } = await synthesize(loaded, { target, flavor: 'plain', outDir: out }));
      } catch (err) {
        ({ code, text: message } = reportError(err));
      }
      timing.render += performance.now() - t;
      t = performance.now();
      expect([name, message.includes('\n    at ') ? 'stack trace' : 'no stack trace']).toEqual([name, 'no stack trace']);
      expect([name, code === 0 || code === 2 ? 'exit 0 or 2' : `exit ${code}: ${message}`]).toEqual([name, 'exit 0 or 2']);
      if (code === 2) {
        tally.refused += 1;
        // Each problem is `platform.yaml:<line>:<col>: <key>: ...` (or the refusal header naming the file).
        // A rule's finding is followed by its `  fix:` line.
        const problems = message.trimEnd().split('\n').filter((l) => (!/^error: /.test(l) || /platform\.yaml:\d/.test(l)) && !/^ {2}fix: /.test(l));
        expect([name, problems.length > 0 && problems.every((l) => /platform\.yaml:\d+:\d+: [^ ]+/.test(l))]).toEqual([name, true]);
        // Nothing written: the tree on disk is the previous one, byte for byte. (When the schema
        // refused the config, synth never ran and there is nothing to compare.)
        if (synthRan) {
          tally.refusedBySynth += 1;
          expect([name, snapshot(out)]).toEqual([name, previous]);
        }
        timing.snapshot += performance.now() - t;
        continue;
      }
      tally.rendered += 1;
      // The tree on disk now: each written target's files replace that target's (a Compose-only
      // run leaves the k3s folder as it was).
      for (const output of outputs) {
        for (const path of Object.keys(previous)) if (path.startsWith(`${output.target}/`)) delete previous[path];
        for (const file of output.files) previous[`${output.target}/${file.path}`] = `${(file.mode ?? FILE_MODE).toString(8)} ${file.content}`;
      }
      // Most files are the same as in an earlier case: each distinct content is parsed and run once.
      const files = Object.fromEntries(
        Object.entries(previous)
          .map(([path, entry]) => [path, entry.slice(4)] as const)
          .filter(([path, content]) => {
            let seen = checkedFiles.get(path);
            if (!seen) checkedFiles.set(path, (seen = new Set()));
            if (seen.has(content)) return false;
            seen.add(content);
            return true;
          }),
      );
      // Each new YAML file is parsed once: for YAML errors, for its one-shot containers' scripts and
      // (k3s) for its objects' identities.
      const documents: unknown[] = [];
      for (const [path, content] of Object.entries(files)) {
        if (path.endsWith('.yaml')) {
          let objects: unknown[] = [];
          expect(() => (objects = readYamlAll(content)), `${name}: ${path}`).not.toThrow();
          documents.push(...objects);
          if (path.startsWith('k3s/apps/') && !identitiesOf.has(content)) identitiesOf.set(content, identities(objects));
        }
        if (path.endsWith('ddclient.conf')) {
          for (const line of content.split('\n').filter((l) => l !== '' && !l.startsWith('#'))) {
            expect([name, line]).toEqual([name, expect.stringMatching(/^([a-z0-9]+=[^\s,'"]*|[a-z0-9.,-]+)$/)]);
          }
        }
      }
      timing.parse += performance.now() - t;
      t = performance.now();
      // No two Kubernetes objects share kind, namespace and name (an app named like a platform object).
      // Each distinct file's identities are read once (most files are the same as in an earlier case).
      const objects = Object.entries(previous)
        .filter(([path]) => path.startsWith('k3s/apps/') && path.endsWith('.yaml'))
        .flatMap(([, entry]) => {
          const content = entry.slice(4);
          let ids = identitiesOf.get(content);
          if (!ids) {
            ids = identities(readYamlAll(content));
            identitiesOf.set(content, ids);
          }
          return ids;
        });
      // Every sighting of an identity after its first is a duplicate (a Set: hundreds of objects per case).
      const seenObjects = new Set<string>();
      const duplicates = objects.filter((o) => {
        if (seenObjects.has(o)) return true;
        seenObjects.add(o);
        return false;
      });
      expect([name, duplicates]).toEqual([name, []]);
      // Every script parses as sh, and runs with its commands stubbed without running any value.
      const scripts = Object.keys(files).filter((p) => p.endsWith('.sh')).map((p) => ({ path: join(out, p), text: files[p] as string }));
      const inline = inlineScripts(documents).filter((script) => {
        if (ranInline.has(script)) return false;
        ranInline.add(script);
        return true;
      }).map((script, i) => {
        const path = join(scratch, `inline-${i}.sh`);
        writeFileSync(path, script);
        return { path, text: script };
      });
      const secrets = [...new Set([...(previous['k3s/secrets/create-secrets.sh'] ?? '').matchAll(/^make_secret \S+ \S+ (\S+)$/gm)].map((m) => m[1] as string))];
      // Scripts that say they are bash (the backup jobs') are parsed and run by bash, the others by sh.
      const shellOf = (text: string) => (text.startsWith('#!/bin/bash') ? 'bash' : 'sh');
      // Each runs in its own shell as `sh -c '...; . "$0"' <file>`: the script's text read by the
      // shell with $0 its own path (create-secrets.sh finds the repository from it), as `sh <file>`
      // runs it, after the shell moved to the scratch folder and loaded the stubs as functions.
      const driver = [...scripts, ...inline]
        .map(({ path: s, text }) => `${shellOf(text)} -n '${s}' || echo "syntax: ${s}"; ${runScript(shellOf(text), s)} >/dev/null 2>&1 </dev/null`)
        .join('\n');
      // No new script in this case: nothing to run (every script it has ran in an earlier case).
      if (driver !== '') {
        const ran = spawnSync('sh', ['-c', driver], {
          encoding: 'utf8',
          timeout: 30_000,
          env: { PATH: `${bin}:${process.env.PATH}`, HOME: scratch, ...Object.fromEntries(secrets.map((s) => [s, 'value'])) },
        });
        expect([name, ran.stdout]).toEqual([name, '']);
      }
      expect([name, existsSync(MARKER)]).toEqual([name, false]);
      timing.scripts += performance.now() - t;
      if (caddyChecked < 3 && toolAvailable('caddy')) {
        const caddyfile = Object.keys(files).find((p) => p.endsWith('/caddy/Caddyfile'));
        if (caddyfile) {
          caddyChecked += 1;
          const content = files[caddyfile] as string;
          const env = Object.fromEntries([...content.matchAll(/\{\$([A-Z0-9_]+)\}/g)].map((m) => [m[1] as string, '$2a$14$ajq8Q7fbtFRQvXpdCq7Jcuy.Rx1h/L4J60Otx.gyNLbAYctGMJ9tK']));
          const checked = spawnSync('caddy', ['validate', '--adapter', 'caddyfile', '--config', caddyfilePathForInstalledCaddy(join(out, caddyfile))], { encoding: 'utf8', env: { ...process.env, ...env, HOME: scratch, XDG_DATA_HOME: scratch, XDG_CONFIG_HOME: scratch } });
          expect([name, checked.status, checked.stderr.includes('Valid configuration') || checked.stdout.includes('Valid configuration')]).toEqual([name, 0, true]);
        }
      }
    }
    console.log(`generated cases: ${tally.rendered} rendered, ${tally.refused} refused (${tally.refusedBySynth} by synth, the others by the schema); ms: ${Object.entries(timing).map(([k, v]) => `${k} ${Math.round(v)}`).join(', ')}`);
    // The mix matters: both outcomes are exercised many times.
    expect(tally.rendered).toBeGreaterThan(50);
    expect(tally.refused).toBeGreaterThan(150);
    expect(tally.refusedBySynth).toBeGreaterThan(0);
  }, 600_000);
});
