import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { checkoutOf, digestListing, SOURCE_PATHS, sourceDigest } from './source-digest.js';
import { readTree } from './tree.js';

/** Something went wrong outside the config: git, npm, a revision that does not build. Exit code 2. */
export class DiffError extends Error {
  override name = 'DiffError';
}

async function git(repo: string, args: string[]): Promise<string> {
  // Output as git wrote it: a file's content keeps its last newline.
  const result = await execa('git', args, { cwd: repo, reject: false, stripFinalNewline: false });
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

/** The digest of a commit's code (scripts/source-digest.mjs), from git's object ids: nothing checked out. */
export async function commitCodeDigest(root: string, sha: string): Promise<string> {
  const listing = await git(root, ['ls-tree', '-r', '-z', '--full-tree', sha, '--', ...SOURCE_PATHS]);
  const entries = listing
    .split('\0')
    .filter(Boolean)
    .map((line) => {
      const [meta = '', path = ''] = line.split('\t');
      const [, type, id] = meta.split(' ');
      return [path, type === 'blob' ? (id as string) : `${type} ${id}`] as const;
    });
  return digestListing(entries);
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

/** A file's content at a commit, or undefined when the commit has no such file. */
export async function fileAtCommit(root: string, sha: string, path: string): Promise<string | undefined> {
  const entry = await git(root, ['ls-tree', '-z', '--full-tree', sha, '--', path]);
  const id = /^\d+ blob ([0-9a-f]+)\t/.exec(entry)?.[1];
  return id === undefined ? undefined : git(root, ['cat-file', 'blob', id]);
}

/**
 * Render `ref` with its own code and its own config: a detached worktree of that revision, its
 * dependencies (the installed ones, linked, when its lockfile is the working tree's; `npm ci`
 * otherwise), its compiler, its CLI. Returns the rendered files by path.
 */
export async function renderRevision(root: string, ref: string, sha: string, configFile: string | undefined, log: (line: string) => void): Promise<Map<string, string>> {
  const scratch = mkdtempSync(join(tmpdir(), 'platform-diff-'));
  const src = join(scratch, 'src');
  try {
    await git(root, ['worktree', 'add', '--detach', '--quiet', src, sha]);
    const lock = join(root, 'package-lock.json');
    const sameLock = existsSync(lock) && (await fileAtCommit(root, sha, 'package-lock.json')) === readFileSync(lock, 'utf8');
    if (sameLock && existsSync(join(root, 'node_modules'))) {
      symlinkSync(join(root, 'node_modules'), join(src, 'node_modules'), 'dir');
    } else {
      log(`platform diff: ${ref} has other dependencies; npm ci in a worktree`);
      const ci = await execa('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: src, reject: false });
      if (ci.exitCode !== 0) throw new DiffError(`npm ci for ${ref} failed:\n${ci.stderr}`);
    }
    // tsc's output runs as it is (every revision's tsconfig.json compiles to build/): no bundle needed.
    const build = await execa('node', [join(src, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: src, reject: false });
    if (build.exitCode !== 0) throw new DiffError(`${ref} does not build:\n${build.stdout}${build.stderr}`);
    const args = [join(src, 'build', 'bin', 'platform.js'), 'synth', '--out', join(scratch, 'out'), '--quiet'];
    if (configFile !== undefined) {
      // A revision before the config existed had no platform: an empty tree.
      if (!existsSync(join(src, configFile))) return new Map();
      args.push('--config', join(src, configFile));
    }
    const synth = await execa('node', args, { cwd: src, reject: false });
    if (synth.exitCode !== 0) throw new DiffError(`platform synth at ${ref} failed (exit ${synth.exitCode}):\n${synth.stderr}`);
    return readTree(join(scratch, 'out'));
  } finally {
    await execa('git', ['worktree', 'remove', '--force', src], { cwd: root, reject: false });
    rmSync(scratch, { recursive: true, force: true });
    await execa('git', ['worktree', 'prune'], { cwd: root, reject: false });
  }
}
