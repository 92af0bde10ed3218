import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, utimesSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn, type ChildProcess } from 'node:child_process';
import { checkoutOf, digestListing, gitBlobId, SOURCE_PATHS, sourceDigest } from './source-digest.js';
import { readTree } from './tree.js';

/** Something went wrong outside the config: git, npm, a revision that does not build. Exit code 2. */
export class DiffError extends Error {
  override name = 'DiffError';
}

/** The programs running now: a signal that ends the run ends them first (see scratchFolder). */
const running = new Set<ChildProcess>();
/** Set when a signal is ending the run: the steps still awaiting start no new program. */
let ending = false;

/**
 * Run a program to its end: its exit code and its output, as it wrote it. It leads a process group of
 * its own, so a signal that ends the run reaches what it started too (the build's esbuild service).
 */
function run(command: string, args: readonly string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    // The step after a killed one must not start a program that writes into the folder being removed.
    if (ending) return fail(new DiffError('ended by a signal'));
    const child = spawn(command, args, { cwd, env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    running.add(child);
    child.on('close', () => running.delete(child));
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', fail);
    child.on('close', (code, signal) =>
      done({ exitCode: code ?? (signal ? 128 : 1), stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') }),
    );
  });
}

async function git(repo: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  const result = await run('git', args, repo, env);
  if (result.exitCode !== 0) throw new DiffError(`git ${args.join(' ')}: ${result.stderr.trim() || `exit ${result.exitCode}`}`);
  return result.stdout;
}

export async function repoRoot(cwd: string): Promise<string> {
  return (await git(cwd, ['rev-parse', '--show-toplevel'])).trim();
}

/** The commit a revision names. */
export async function resolveCommit(root: string, ref: string): Promise<string> {
  return (await git(root, ['rev-parse', '--verify', `${ref}^{commit}`])).trim();
}

/** What a commit holds: its code's digest (lib/diff/source-digest.ts) and the blob id of each asked-for file it has. */
export interface CommitCode {
  readonly digest: string;
  readonly blobs: ReadonlyMap<string, string>;
}

/** A commit's code digest and files' blob ids, from one `git ls-tree`: nothing checked out. */
export async function commitCode(root: string, sha: string, files: readonly string[] = []): Promise<CommitCode> {
  const listing = await git(root, ['ls-tree', '-r', '-z', '--full-tree', sha, '--', ...SOURCE_PATHS, ...files]);
  const entries = listing
    .split('\0')
    .filter(Boolean)
    .map((line) => {
      const [meta = '', path = ''] = line.split('\t');
      const [, type, id] = meta.split(' ');
      return [path, type === 'blob' ? (id as string) : `${type} ${id}`] as const;
    });
  const code = entries.filter(([path]) => SOURCE_PATHS.some((p) => path === p || path.startsWith(`${p}/`)));
  return { digest: digestListing(code), blobs: new Map(entries.filter(([path]) => files.includes(path))) };
}

/** The content of a blob. */
export function blobContent(root: string, id: string): Promise<string> {
  return git(root, ['cat-file', 'blob', id]);
}

/** Set by scripts/build.mjs: the digest of the sources the running bundle was built from. */
declare const PLATFORM_SOURCE_DIGEST: string | undefined;
let runningDigest: string | undefined;

/**
 * The digest of the code this process runs: the bundle's, recorded when it was built (so a build
 * older than the sources around it is not taken for them); running from the sources (the tests, or
 * tsc's output in build/), the digest of the sources of that checkout.
 */
export function runningCodeDigest(): string {
  runningDigest ??= typeof PLATFORM_SOURCE_DIGEST === 'string' ? PLATFORM_SOURCE_DIGEST : sourceDigest(checkoutOf(fileURLToPath(import.meta.url)));
  return runningDigest;
}

/** Signals that end the process by default: a run they stop still removes its scratch folder. */
const ENDING_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * A scratch folder that is removed however the run ends: by `dispose` (the run's own end, success
 * or error), at the process's exit, or on a signal that would end it: the programs still running
 * (git, the build, the revision's CLI) are ended first, so none writes into the folder after it is
 * gone; then the folder is removed and the signal takes its default action (the process ends with
 * it, as it would have). `alsoRemove` adds a path elsewhere that goes with it.
 */
function scratchFolder(): { dir: string; dispose: () => void; alsoRemove: (path: string) => void } {
  const dir = mkdtempSync(join(tmpdir(), 'platform-diff-'));
  const paths = [dir];
  const remove = () => {
    // A program ended a moment ago may still have a write in flight (a grandchild of the build
    // outlives its parent by a few milliseconds): rmSync retries ENOTEMPTY/EBUSY with a backoff, and
    // a folder that still cannot go is said in one line, never a stack trace on the way out.
    for (const path of paths) {
      try {
        rmSync(path, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
      } catch (error) {
        process.stderr.write(`platform diff: could not remove ${path}: ${(error as Error).message}\n`);
      }
    }
  };
  const onSignal = async (signal: NodeJS.Signals) => {
    for (const signal of ENDING_SIGNALS) process.off(signal, onSignal);
    ending = true;
    const children = [...running].filter((c) => c.exitCode === null && c.signalCode === null);
    const ended = Promise.all(children.map((c) => new Promise((done) => c.once('close', done))));
    const within = (ms: number) => Promise.race([ended, new Promise((done) => setTimeout(done, ms))]);
    const killGroups = (how: NodeJS.Signals) => {
      for (const child of children) {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, how);
        } catch {
          // the group has already ended
        }
      }
    };
    // Each program's whole group, so nothing it started writes into the folder once it is removed.
    killGroups('SIGTERM');
    await within(5_000);
    killGroups('SIGKILL');
    await within(2_000);
    dispose();
    process.kill(process.pid, signal);
    // Should another listener have taken the signal, end as the signal would have (128 + its number).
    setTimeout(() => process.exit(128 + (constants.signals[signal] ?? 0)), 200);
  };
  const dispose = () => {
    for (const signal of ENDING_SIGNALS) process.off(signal, onSignal);
    process.off('exit', remove);
    remove();
  };
  for (const signal of ENDING_SIGNALS) process.once(signal, onSignal);
  process.once('exit', remove);
  return { dir, dispose, alsoRemove: (path) => paths.push(path) };
}

/** How many built revisions the build cache keeps (the least recently used go first); a few MB each. */
const CACHED_BUILDS = 4;

/**
 * Where built revisions are kept: `platform-diff/builds/<code digest>/` in the repository's git
 * folder (shared by its worktrees, never committed, gone with the clone). A build is kept only when
 * it is a bundle (scripts/build.mjs: the dependencies are inside it), with what it reads when it
 * runs: `package.json` and `images/` beside `build/` (lib/image-build.ts finds the build contexts there).
 */
async function buildCache(root: string): Promise<string | undefined> {
  // `--path-format` needs git 2.31; an older git just builds every time.
  const common = await run('git', ['rev-parse', '--path-format=absolute', '--git-common-dir'], root);
  return common.exitCode === 0 ? join(common.stdout.trim(), 'platform-diff', 'builds') : undefined;
}

/**
 * Keep a revision's bundle in the cache (whole or not at all: written aside, then renamed), and drop
 * the oldest past CACHED_BUILDS. Best effort: a git folder that cannot be written to (a read-only
 * checkout, a full disk) only means the next run builds again.
 */
function keepBuild(src: string, cache: string, digest: string, scratch: { alsoRemove: (path: string) => void }): void {
  const aside = join(cache, `.new-${randomBytes(6).toString('hex')}`);
  scratch.alsoRemove(aside);
  try {
    mkdirSync(aside, { recursive: true });
    // dereference: build/ is a link into the scratch checkout's .build/ (scripts/build.mjs); the cache keeps the bundle itself.
    for (const part of ['build', 'images', 'package.json']) if (existsSync(join(src, part))) cpSync(join(src, part), join(aside, part), { recursive: true, dereference: true });
    renameSync(aside, join(cache, digest));
  } catch {
    return; // not writable, or another run kept the same build first
  }
  try {
    // What a run killed outright (SIGKILL) left aside, an hour on.
    for (const name of readdirSync(cache).filter((n) => n.startsWith('.new-'))) {
      if (statSync(join(cache, name)).mtimeMs < Date.now() - 3_600_000) rmSync(join(cache, name), { recursive: true, force: true });
    }
    const builds = readdirSync(cache)
      .filter((name) => !name.startsWith('.'))
      .map((name) => ({ name, used: statSync(join(cache, name)).mtimeMs }))
      .sort((a, b) => b.used - a.used);
    for (const old of builds.slice(CACHED_BUILDS)) rmSync(join(cache, old.name), { recursive: true, force: true });
  } catch {
    // Another run pruning at the same time: the next run prunes again.
  }
}

/**
 * Render `ref` with its own code and its own config: its files written out of git into a scratch
 * folder (a private index and `git checkout-index`: no worktree is registered in the repository, so
 * a run that is killed leaves nothing in `git worktree list`, and the folder goes with the process,
 * see scratchFolder), then its CLI: the build of the same code kept from an earlier run (buildCache),
 * or its own build now, with its dependencies (the installed ones, linked, when its lockfile is the
 * working tree's; `npm ci` otherwise). Returns the rendered files by path.
 */
export async function renderRevision(root: string, ref: string, sha: string, configFile: string | undefined, log: (line: string) => void): Promise<Map<string, string>> {
  const code = await commitCode(root, sha, ['package-lock.json', ...(configFile === undefined ? [] : [configFile])]);
  // A revision before the config existed had no platform: an empty tree.
  if (configFile !== undefined && !code.blobs.has(configFile)) return new Map();
  const cache = await buildCache(root);
  const cached = cache === undefined ? undefined : join(cache, code.digest);
  const reuse = cached !== undefined && existsSync(join(cached, 'build', 'bin', 'platform.js'));
  log(`platform diff: ${ref} has other code than this build; ${reuse ? `reusing its build from ${cached}` : 'building it in a scratch folder'}`);
  const scratch = scratchFolder();
  const src = join(scratch.dir, 'src');
  try {
    const index = { ...process.env, GIT_INDEX_FILE: join(scratch.dir, 'index') };
    await git(root, ['read-tree', sha], index);
    await git(root, ['checkout-index', '--all', `--prefix=${src}/`], index);
    let cli: string;
    if (reuse && cached !== undefined) {
      cli = join(cached, 'build', 'bin', 'platform.js');
      const now = new Date();
      utimesSync(cached, now, now);
    } else {
      const lock = join(root, 'package-lock.json');
      const sameLock = existsSync(lock) && code.blobs.get('package-lock.json') === gitBlobId(readFileSync(lock));
      if (sameLock && existsSync(join(root, 'node_modules'))) {
        symlinkSync(join(root, 'node_modules'), join(src, 'node_modules'), 'dir');
      } else {
        log(`platform diff: ${ref} has other dependencies; npm ci in its scratch folder`);
        const ci = await run('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], src);
        if (ci.exitCode !== 0) throw new DiffError(`npm ci for ${ref} failed:\n${ci.stderr}`);
      }
      const bundled = await buildRevision(src, ref);
      if (bundled && cache !== undefined) keepBuild(src, cache, code.digest, scratch);
      cli = join(src, 'build', 'bin', 'platform.js');
    }
    const args = [cli, 'synth', '--out', join(scratch.dir, 'out'), '--quiet'];
    if (configFile !== undefined) args.push('--config', join(src, configFile));
    const synth = await run(process.execPath, args, src);
    if (synth.exitCode !== 0) throw new DiffError(`platform synth at ${ref} failed (exit ${synth.exitCode}):\n${synth.stderr}`);
    return readTree(join(scratch.dir, 'out'));
  } finally {
    scratch.dispose();
  }
}

/**
 * Build a revision's CLI into its `build/`: with the bundler script its `npm run build` runs
 * (scripts/build.mjs, esbuild: about a second) where it has one, skipping the type check before it
 * (`tsc --noEmit` writes nothing, so the output is the same); an older revision without one is
 * compiled by its tsc (every revision's tsconfig.json compiles to build/). Whether it is a bundle.
 */
async function buildRevision(src: string, ref: string): Promise<boolean> {
  const bundler = join(src, 'scripts', 'build.mjs');
  const bundled = existsSync(bundler);
  const build = bundled
    ? await run(process.execPath, [bundler], src)
    : await run(process.execPath, [join(src, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], src);
  if (build.exitCode !== 0) throw new DiffError(`${ref} does not build:\n${build.stdout}${build.stderr}`);
  return bundled;
}
