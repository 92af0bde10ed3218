import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, isAbsolute, join, normalize, relative, sep } from 'node:path';
import { UsageError } from '../config/errors.js';

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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
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
      if (!Number.isInteger(owner) || !alive(owner)) {
        // Left by a killed run. Moved aside under a unique name first, so of two runs taking it
        // over at once only one removes it.
        const stale = `${lock}.stale-${randomBytes(4).toString('hex')}`;
        try {
          renameSync(lock, stale);
          const again = Number.parseInt(readFileSync(stale, 'utf8'), 10);
          if (Number.isInteger(again) && alive(again)) linkSync(stale, lock); // a live lock after all: put it back
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

/** Content address of a rendered tree: paths, modes and bytes. */
function treeHash(files: readonly RenderedFile[]): string {
  const hash = createHash('sha256');
  for (const file of files) hash.update(`${file.path}\0${(file.mode ?? FILE_MODE).toString(8)}\0${file.content.length}\0${file.content}\0`);
  return hash.digest('hex').slice(0, 16);
}

/** `true` when `dir` holds exactly `files` (paths, bytes and modes). */
function holdsExactly(dir: string, files: readonly RenderedFile[]): boolean {
  try {
    const onDisk = listFiles(dir);
    if (onDisk.length !== files.length) return false;
    for (const file of files) {
      const path = join(dir, file.path);
      if ((statSync(path).mode & 0o777) !== (file.mode ?? FILE_MODE)) return false;
      if (readFileSync(path, 'utf8') !== file.content) return false;
    }
    return true;
  } catch {
    return false;
  }
}

/** What `<outDir>/<subdir>` is now: nothing, the writer's symlink (with its target), a folder, or something else. */
function currentState(final: string): { kind: 'none' } | { kind: 'link'; target: string } | { kind: 'folder' } | { kind: 'other' } {
  let stat;
  try {
    stat = lstatSync(final);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'none' };
    throw err;
  }
  if (stat.isSymbolicLink()) return { kind: 'link', target: readlinkSync(final) };
  if (stat.isDirectory()) return { kind: 'folder' };
  return { kind: 'other' };
}

/**
 * Replace `<outDir>/<subdir>` with exactly `files`, atomically.
 *
 * `<outDir>/<subdir>` is a relative symbolic link to `.<subdir>.tree-<hash>` beside it (the hash is
 * of the tree's paths, modes and bytes, so the same config gives the same link). A run writes the
 * new tree into a staging folder, renames it to its `.tree-` name, and swaps the link with one
 * rename(2) of a new link over the old one: at every instant `<subdir>` is the whole old tree or the
 * whole new one, and a run killed at any point leaves the old one in place. Runs on one tree take
 * turns through a lock file; each cleans what killed runs left (staging folders, links, old trees).
 * Nothing outside `<outDir>/<subdir>` and its `.<subdir>.*` siblings is touched.
 */
export function writeTree(outDir: string, subdir: string, files: readonly RenderedFile[]): void {
  assertInside(subdir);
  if (subdir.includes('/') || subdir.startsWith('.')) throw new Error(`refusing to write a nested or hidden target folder: ${subdir}`);
  const seen = new Set<string>();
  for (const file of files) {
    assertInside(file.path);
    if (seen.has(file.path)) throw new Error(`two rendered files have the same path: ${file.path}`);
    seen.add(file.path);
  }
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const final = join(outDir, subdir);
  asUsageError(final, () => {
    prepareOutDir(outDir);
    withLock(outDir, subdir, () => swapIn(outDir, subdir, sorted));
  });
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
  const final = join(outDir, subdir);
  const treePrefix = `.${subdir}.tree-`;
  let state = currentState(final);
  if (state.kind === 'other') throw new UsageError(`cannot write ${final}: it is a file, not a folder`);
  if (state.kind === 'link' && (!state.target.startsWith(treePrefix) || state.target.includes('/'))) {
    throw new UsageError(`cannot write ${final}: it is a symbolic link to ${state.target}, which platform synth did not make`);
  }
  removeLeftovers(outDir, subdir, state.kind === 'link' ? state.target : undefined);
  if (state.kind === 'link' && holdsExactly(join(outDir, state.target), files)) return;

  const staging = join(outDir, `.${subdir}.staging-${randomBytes(6).toString('hex')}`);
  try {
    mkdirSync(staging, { mode: FOLDER_MODE });
    chmodSync(staging, FOLDER_MODE);
    const folders = new Set<string>();
    for (const file of files) {
      const target = join(staging, file.path);
      const folder = dirname(target);
      if (!folders.has(folder)) {
        mkdirSync(folder, { recursive: true, mode: FOLDER_MODE });
        for (let f = folder; f !== staging && !folders.has(f); f = dirname(f)) {
          chmodSync(f, FOLDER_MODE);
          folders.add(f);
        }
      }
      writeFileSync(target, file.content, { mode: file.mode ?? FILE_MODE });
      chmodSync(target, file.mode ?? FILE_MODE);
    }
    let name = `${treePrefix}${treeHash(files)}`;
    // A tree of that name that differs was edited by hand: keep it until the swap, use another name.
    for (let n = 1; currentState(join(outDir, name)).kind !== 'none'; n += 1) name = `${treePrefix}${treeHash(files)}-${n}`;
    renameSync(staging, join(outDir, name));

    if (state.kind === 'folder') {
      // A real folder (written by an older version, or by hand) cannot be replaced by a link in
      // one step: it moves to a `.tree-` name first, once; from then on every swap is one rename.
      const legacy = `${treePrefix}previous-${randomBytes(6).toString('hex')}`;
      renameSync(final, join(outDir, legacy));
      state = { kind: 'link', target: legacy };
    }
    const link = join(outDir, `.${subdir}.link-${randomBytes(6).toString('hex')}`);
    symlinkSync(name, link);
    renameSync(link, final);
    removeLeftovers(outDir, subdir, name);
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
}

/** Remove what earlier runs left beside `<subdir>`: staging folders, links, trees other than `keep`. */
function removeLeftovers(outDir: string, subdir: string, keep: string | undefined): void {
  const ours = [`.${subdir}.staging-`, `.${subdir}.link-`, `.${subdir}.tree-`, `.${subdir}.lock-`, `.${subdir}.lock.stale-`];
  for (const entry of readdirSync(outDir)) {
    if (entry === keep || !ours.some((prefix) => entry.startsWith(prefix))) continue;
    // `.lock-<pid>-*` is the private file of a run waiting for the lock: only a dead run's goes.
    const waiting = entry.startsWith(`.${subdir}.lock-`) ? Number.parseInt(entry.slice(`.${subdir}.lock-`.length), 10) : Number.NaN;
    if (Number.isInteger(waiting) && alive(waiting)) continue;
    rmSync(join(outDir, entry), { recursive: true, force: true });
  }
}

/** Every file below `dir`, by path relative to it with `/` (the writer's own hidden folders left out). */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      if (entry.name.startsWith('.') && entry.isDirectory()) continue;
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
    if (currentState(path).kind === 'folder') throw new UsageError(`cannot write ${path}: it is a folder; name a file`);
    writeFileSync(path, content, { mode: FILE_MODE });
  });
}
