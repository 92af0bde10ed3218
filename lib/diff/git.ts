import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { readTree } from './tree.js';

/** Something went wrong outside the config: git, npm, a revision that does not build. Exit code 2. */
export class DiffError extends Error {
  override name = 'DiffError';
}

async function git(repo: string, args: string[]): Promise<string> {
  const result = await execa('git', args, { cwd: repo, reject: false });
  if (result.exitCode !== 0) throw new DiffError(`git ${args.join(' ')}: ${result.stderr.trim() || `exit ${result.exitCode}`}`);
  return result.stdout;
}

export async function repoRoot(cwd: string): Promise<string> {
  return git(cwd, ['rev-parse', '--show-toplevel']);
}

/**
 * Render `ref` with its own code and its own config: a detached worktree of that revision, its
 * dependencies (the installed ones, linked, when its lockfile is the working tree's; `npm ci`
 * otherwise), its compiler, its CLI. Returns the rendered files by path.
 */
export async function renderRevision(root: string, ref: string, configFile: string | undefined, log: (line: string) => void): Promise<Map<string, string>> {
  const sha = (await git(root, ['rev-parse', '--verify', `${ref}^{commit}`])).trim();
  const scratch = mkdtempSync(join(tmpdir(), 'platform-diff-'));
  const src = join(scratch, 'src');
  try {
    await git(root, ['worktree', 'add', '--detach', '--quiet', src, sha]);
    const lock = join(root, 'package-lock.json');
    const sameLock = existsSync(lock) && (await git(root, ['show', `${sha}:package-lock.json`]).catch(() => '')) === readFileSync(lock, 'utf8').replace(/\n$/, '');
    if (sameLock && existsSync(join(root, 'node_modules'))) {
      symlinkSync(join(root, 'node_modules'), join(src, 'node_modules'), 'dir');
    } else {
      log(`platform diff: ${ref} has other dependencies; npm ci in a worktree`);
      const ci = await execa('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: src, reject: false });
      if (ci.exitCode !== 0) throw new DiffError(`npm ci for ${ref} failed:\n${ci.stderr}`);
    }
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
