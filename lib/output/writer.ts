import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  type Stats,
} from 'node:fs';
import { dirname, isAbsolute, join, normalize, relative, sep } from 'node:path';
import { UsageError } from '../config/errors.js';
import { processAlive, removePath } from './cleanup.js';

/** A file of a rendered tree, by path relative to the tree's root. */
export interface RenderedFile {
  readonly path: string;
  readonly content: string;
  /** 0o644, or 0o755 for scripts. Nothing rendered is secret, so everything is world-readable. @default 0o644 */
  readonly mode?: number;
}

/** Folders of a rendered tree: readable and listable by everyone (nothing rendered is secret). */
export const FOLDER_MODE = 0o755;
export const FILE_MODE = 0o644;

/** A file's mode as the writer and `synth --check` compare it: every permission bit (setuid, setgid and sticky included). */
export function permissionBits(stat: { readonly mode: number }): number {
  return stat.mode & 0o7777;
}

/** Whether `path`, whose lstat is `stat`, is a regular file holding `content` (the size first: a file of another length is not read). */
function holdsContent(path: string, stat: Stats, content: string): boolean {
  return stat.isFile() && stat.size === Buffer.byteLength(content) && readFileSync(path, 'utf8') === content;
}

/**
 * Files the owner keeps inside a rendered tree: a stack's `.env` (`platform secrets env`, mode 0600,
 * holding values). Never rendered: each run carries them into the new tree where their folder
 * still exists, and `synth --check` and `diff` never read them.
 */
export const OWNER_FILES: ReadonlySet<string> = new Set(['.env']);

/** How long a run waits for another run writing the same tree before giving up. */
const LOCK_WAIT_MS = 120_000;

function assertInside(path: string): void {
  const normal = normalize(path);
  if (path === '' || isAbsolute(path) || normal.startsWith('..') || normal.split(sep).includes('..')) {
    throw new Error(`refusing to write outside the output folder: ${path}`);
  }
}

const OS_REASONS: Readonly<Record<string, string>> = {
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EEXIST: 'a file is in the way',
  EISDIR: 'it is a folder',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'too many symbolic links',
  EMFILE: 'too many open files',
  EIO: 'input/output error',
};

/** An operating-system error as one line: what could not be done, where, and why. */
export function describeOsError(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) return undefined;
  return `${OS_REASONS[code] ?? (err as Error).message.split('\n')[0]} (${code})`;
}

/** Run `write`; an OS error becomes one line naming the output folder. */
function asUsageError<T>(where: string, write: () => T): T {
  try {
    return write();
  } catch (err) {
    const reason = describeOsError(err);
    if (reason) throw new UsageError(`cannot write ${where}: ${reason}`);
    throw err;
  }
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * `<outDir>/.<subdir>.lock`, created exclusively and holding the owner's pid: one run at a time
 * writes a tree. A run waits for a live owner; the lock of a killed run is taken over.
 */
function withLock<T>(outDir: string, subdir: string, body: () => T): T {
  const lock = join(outDir, `.${subdir}.lock`);
  // The lock appears with its pid already in it (written to a private file, then hard-linked into
  // place, which fails when the lock exists): nobody ever reads a half-written lock.
  const mine = join(outDir, `.${subdir}.lock-${process.pid}-${randomBytes(4).toString('hex')}`);
  writeFileSync(mine, `${process.pid}\n`, { mode: FILE_MODE });
  const deadline = Date.now() + LOCK_WAIT_MS;
  try {
    for (;;) {
      try {
        linkSync(mine, lock);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      let owner = Number.NaN;
      try {
        owner = Number.parseInt(readFileSync(lock, 'utf8'), 10);
      } catch {
        continue; // released between our attempt and the read
      }
      if (!Number.isInteger(owner) || !processAlive(owner)) {
        // Left by a killed run. Moved aside under a unique name first, so of two runs taking it
        // over at once only one removes it.
        const stale = `${lock}.stale-${randomBytes(4).toString('hex')}`;
        try {
          renameSync(lock, stale);
          const again = Number.parseInt(readFileSync(stale, 'utf8'), 10);
          if (Number.isInteger(again) && processAlive(again)) linkSync(stale, lock); // a live lock after all: put it back
          rmSync(stale, { force: true });
        } catch {
          // another run took it over first
        }
        continue;
      }
      if (Date.now() > deadline) throw new UsageError(`${join(outDir, subdir)} is being written by another platform synth (pid ${owner}); ${lock} is its lock`);
      sleep(50);
    }
  } finally {
    rmSync(mine, { force: true });
  }
  try {
    return body();
  } finally {
    rmSync(lock, { force: true });
  }
}

/** `true` when `dir` is a real folder holding exactly `files` (paths, bytes and modes, every permission bit; folders 0755, nothing else). */
function holdsExactly(dir: string, files: readonly RenderedFile[]): boolean {
  const expected = new Map<string, number>();
  for (const file of files) {
    expected.set(file.path, file.mode ?? FILE_MODE);
    for (let folder = dirname(file.path); folder !== '.'; folder = dirname(folder)) expected.set(`${folder}/`, FOLDER_MODE);
  }
  try {
    if (!lstatSync(dir).isDirectory() || permissionBits(lstatSync(dir)) !== FOLDER_MODE) return false;
    // Contents first: after a config change the first rendered file that differs ends the check
    // (the top README summarises the platform, so it is usually the first), before the walk below.
    // Only a regular file is read (lstat, not following a link): a FIFO or a link to a device put
    // in the tree would block the read or never end it. Its mode is kept for the walk.
    const fileModes = new Map<string, number>();
    const same = (file: RenderedFile) => {
      const path = join(dir, file.path);
      const stat = lstatSync(path);
      fileModes.set(file.path, permissionBits(stat));
      return holdsContent(path, stat, file.content);
    };
    if (!files.every(same)) return false;
    let seen = 0;
    const walk = (folder: string, prefix: string): boolean => {
      for (const entry of readdirSync(folder, { withFileTypes: true })) {
        if (entry.isFile() && OWNER_FILES.has(entry.name)) continue;
        const path = `${prefix}${entry.name}${entry.isDirectory() ? '/' : ''}`;
        const mode = expected.get(path);
        seen += 1;
        if (mode === undefined || (!entry.isDirectory() && !entry.isFile())) return false;
        const full = join(folder, entry.name);
        if ((fileModes.get(path) ?? permissionBits(lstatSync(full))) !== mode) return false;
        if (entry.isDirectory() && !walk(full, path)) return false;
      }
      return true;
    };
    return walk(dir, '') && seen === expected.size;
  } catch {
    return false;
  }
}

/** What a path is now, without following a link at it. */
function kindOf(path: string): 'none' | 'link' | 'folder' | 'other' {
  let stat;
  try {
    stat = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'none';
    throw err;
  }
  if (stat.isSymbolicLink()) return 'link';
  if (stat.isDirectory()) return 'folder';
  return 'other';
}

/** The names the writer uses beside `<outDir>/<target>`. */
function namesOf(outDir: string, target: string) {
  return {
    final: join(outDir, target),
    /** The new tree while it is written; incomplete by definition. */
    staging: join(outDir, `.${target}.staging-${process.pid}`),
    stagingPrefix: `.${target}.staging-`,
    /** The new tree, complete: renaming the staging folder here is the completion marker. */
    next: join(outDir, `.${target}.next`),
    /** The old tree between the two renames of a swap, and until it is removed. */
    previous: join(outDir, `.${target}.previous`),
    /** A `<target>` symbolic link to `.<target>.tree-<hash>` is what versions before this one wrote. */
    legacyTreePrefix: `.${target}.tree-`,
  };
}

/**
 * Finish a swap that a killed run left half-done. Call with the lock held. A complete new tree
 * (`.<target>.next`) is swapped in; when `<target>` is missing (killed between the two renames)
 * this is the second rename. Afterwards `<target>` is a whole tree (or absent when none was ever
 * written) and no `.next` or `.previous` is left.
 */
function finishInterruptedSwap(outDir: string, target: string): void {
  const { final, next, previous } = namesOf(outDir, target);
  if (kindOf(next) === 'folder') {
    if (kindOf(final) !== 'none') {
      removePath(previous);
      renameSync(final, previous);
    }
    renameSync(next, final);
  } else if (kindOf(final) === 'none' && kindOf(previous) !== 'none') {
    // Not reachable through this writer's order of steps (`.next` leaves only by becoming
    // `<target>`); kept so that a hand-made mess never loses the last whole tree.
    renameSync(previous, final);
  }
  removePath(previous);
}

/** Remove what killed runs left beside `<target>`: staging folders, dead runs' lock files, the links and trees of the symlink-based writer. */
function removeLeftovers(outDir: string, target: string): void {
  const ours = [`.${target}.staging-`, `.${target}.link-`, `.${target}.tree-`, `.${target}.lock-`, `.${target}.lock.stale-`];
  for (const entry of readdirSync(outDir)) {
    if (!ours.some((prefix) => entry.startsWith(prefix))) continue;
    // `.lock-<pid>-*` is the private file of a run waiting for the lock: only a dead run's goes.
    const waiting = entry.startsWith(`.${target}.lock-`) ? Number.parseInt(entry.slice(`.${target}.lock-`.length), 10) : Number.NaN;
    if (Number.isInteger(waiting) && processAlive(waiting)) continue;
    removePath(join(outDir, entry));
  }
}

/**
 * Replace `<outDir>/<target>` with exactly `files`. `<target>` is always a real folder (never a
 * symbolic link: ArgoCD's repo-server walks an app's path without following links, and git would
 * show every change as the whole tree moving).
 *
 * Under the lock `<outDir>/.<target>.lock`, a run first finishes a swap a killed run left
 * half-done and removes its leftovers. When `<target>` already holds exactly `files` (bytes and
 * modes) nothing is touched. Otherwise the new tree is written to `.<target>.staging-<pid>`,
 * renamed to `.<target>.next` when complete (that rename is the completion marker), and swapped in
 * with two renames: `<target>` -> `.<target>.previous`, `.<target>.next` -> `<target>`; then the
 * previous tree is removed. Killed at any step, a run leaves the whole old tree, the whole new
 * tree, or (only between the two renames) no `<target>` with both whole trees beside it, which
 * the next run, `synth --check` and `diff` complete. Nothing outside `<outDir>/<target>` and its
 * `.<target>.*` siblings is touched.
 */
export function writeTree(outDir: string, subdir: string, files: readonly RenderedFile[]): void {
  assertInside(subdir);
  if (subdir.includes('/') || subdir.startsWith('.')) throw new Error(`refusing to write a nested or hidden target folder: ${subdir}`);
  const seen = new Set<string>();
  for (const file of files) {
    assertInside(file.path);
    if (seen.has(file.path)) throw new Error(`two rendered files have the same path: ${file.path}`);
    if (OWNER_FILES.has(file.path.split('/').pop() as string)) throw new Error(`refusing to render ${file.path}: that name is the owner's, never rendered`);
    seen.add(file.path);
  }
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const final = join(outDir, subdir);
  asUsageError(final, () => {
    prepareOutDir(outDir);
    withLock(outDir, subdir, () => swapIn(outDir, subdir, sorted));
  });
}

/**
 * For readers of `<outDir>/<target>` (`synth --check`, `diff`): when a killed run left the swap
 * between its two renames (no `<target>`, a complete `.<target>.next`), finish it under the lock.
 * Costs one lstat when there is nothing to do; touches nothing then.
 */
export function recoverTree(outDir: string, target: string): void {
  const { final, next } = namesOf(outDir, target);
  if (kindOf(final) !== 'none' || kindOf(next) !== 'folder') return;
  asUsageError(final, () => withLock(outDir, target, () => finishInterruptedSwap(outDir, target)));
}

/** `outDir` must be a folder (created when missing); a file there or above it is a usage error. */
function prepareOutDir(outDir: string): void {
  if (outDir === '') throw new UsageError('the output folder is empty; give --out a folder such as dist');
  let stat;
  try {
    stat = statSync(outDir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw new UsageError(`cannot write ${outDir}: a part of the path is a file, not a folder`);
    if (code !== 'ENOENT') throw err;
    mkdirSync(outDir, { recursive: true });
    return;
  }
  if (!stat.isDirectory()) throw new UsageError(`cannot write ${outDir}: it is a file, not a folder`);
}

function swapIn(outDir: string, subdir: string, files: readonly RenderedFile[]): void {
  const { final, staging, next, previous, legacyTreePrefix } = namesOf(outDir, subdir);
  const kind = kindOf(final);
  if (kind === 'other') throw new UsageError(`cannot write ${final}: it is a file, not a folder`);
  if (kind === 'link') {
    const target = readlinkSync(final);
    if (!target.startsWith(legacyTreePrefix) || target.includes('/')) {
      throw new UsageError(`cannot write ${final}: it is a symbolic link to ${target}, which platform synth did not make`);
    }
  }
  finishInterruptedSwap(outDir, subdir);
  removeLeftovers(outDir, subdir);
  const oldTree = kindOf(final) === 'folder' ? final : undefined;
  // An unchanged re-run touches nothing (no new inodes, no changed times for git or watchers).
  if (oldTree !== undefined && holdsExactly(oldTree, files)) return;

  try {
    mkdirSync(staging, { mode: FOLDER_MODE });
    chmodSync(staging, FOLDER_MODE);
    const folders = new Set<string>();
    for (const file of files) {
      const path = join(staging, file.path);
      const folder = dirname(path);
      if (!folders.has(folder)) {
        mkdirSync(folder, { recursive: true, mode: FOLDER_MODE });
        for (let f = folder; f !== staging && !folders.has(f); f = dirname(f)) {
          chmodSync(f, FOLDER_MODE);
          folders.add(f);
        }
      }
      if (oldTree !== undefined && linkedUnchanged(join(oldTree, file.path), path, file)) continue;
      writeFileSync(path, file.content, { mode: file.mode ?? FILE_MODE });
      chmodSync(path, file.mode ?? FILE_MODE);
    }
    if (oldTree !== undefined) carryOwnerFiles(oldTree, staging);
  } catch (err) {
    removePath(staging);
    throw err;
  }
  try {
    renameSync(staging, next);
    // The two renames: between them (and only then) `<target>` does not exist. A legacy symlink
    // moves aside like a folder; the tree it named is removed with the leftovers.
    if (kindOf(final) !== 'none') renameSync(final, previous);
    renameSync(next, final);
  } catch (err) {
    // A failed (not killed) run puts the old tree back and leaves no new one to be swapped in later.
    if (kindOf(final) === 'none' && kindOf(previous) !== 'none') renameSync(previous, final);
    removePath(next);
    removePath(staging);
    throw err;
  }
  removePath(previous);
  removeLeftovers(outDir, subdir);
}

/**
 * Only what changed is rewritten: a file the old tree holds with the same bytes and mode (every
 * permission bit, setuid included; a regular file this user owns) is hard-linked into the new tree
 * instead of written again, so it keeps its inode and modification time (git, rsync and file
 * watchers see only what changed) and costs no new data on disk. The swap stays whole: the new
 * tree is complete before it is renamed in, and removing the old tree, or a killed run's staging
 * folder, only removes names. `false` (write it) when the old file differs, or when the file
 * system refuses a hard link.
 */
function linkedUnchanged(old: string, path: string, file: RenderedFile): boolean {
  let stat;
  try {
    stat = lstatSync(old);
  } catch {
    return false;
  }
  if (permissionBits(stat) !== (file.mode ?? FILE_MODE) || stat.uid !== process.getuid?.() || !holdsContent(old, stat, file.content)) return false;
  try {
    linkSync(old, path);
    return true;
  } catch {
    return false;
  }
}

/** Copy the owner's files (`OWNER_FILES`) of the old tree into the new one, mode kept, where their folder is still rendered. */
function carryOwnerFiles(from: string, to: string): void {
  const walk = (folder: string) => {
    for (const entry of readdirSync(join(from, folder), { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && OWNER_FILES.has(entry.name) && kindOf(join(to, folder)) === 'folder') {
        copyFileSync(join(from, path), join(to, path));
        chmodSync(join(to, path), lstatSync(join(from, path)).mode & 0o777);
      }
    }
  };
  walk('');
}

/** Every rendered file below `dir`, by path relative to it with `/` (the writer's own hidden folders and the owner's files left out). */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      if (entry.name.startsWith('.') && entry.isDirectory()) continue;
      if (entry.isFile() && OWNER_FILES.has(entry.name)) continue;
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else out.push(relative(dir, path).split(sep).join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

/**
 * Write one file the user named on the command line (`init --out`, `graph --out`): its folder must
 * exist, and the path must not be a folder. Errors are one line (UsageError).
 */
export function writeUserFile(path: string, content: string): void {
  if (path === '') throw new UsageError('the output file name is empty');
  const folder = dirname(path);
  let folderStat;
  try {
    folderStat = statSync(folder);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError(`cannot write ${path}: the folder ${folder} does not exist`);
    if (code === 'ENOTDIR') throw new UsageError(`cannot write ${path}: a part of ${folder} is a file, not a folder`);
    throw err;
  }
  if (!folderStat.isDirectory()) throw new UsageError(`cannot write ${path}: ${folder} is a file, not a folder`);
  asUsageError(path, () => {
    if (kindOf(path) === 'folder') throw new UsageError(`cannot write ${path}: it is a folder; name a file`);
    writeFileSync(path, content, { mode: FILE_MODE });
  });
}
