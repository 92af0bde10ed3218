import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize, relative, sep } from 'node:path';

/** A file of a rendered tree, by path relative to the tree's root. */
export interface RenderedFile {
  readonly path: string;
  readonly content: string;
  /** @default 0o644 */
  readonly mode?: number;
}

function assertInside(path: string): void {
  const normal = normalize(path);
  if (isAbsolute(path) || normal.startsWith('..') || normal.split(sep).includes('..')) {
    throw new Error(`refusing to write outside the output folder: ${path}`);
  }
}

/**
 * Replace `<outDir>/<subdir>` with exactly `files`, atomically: the tree is built in a temporary
 * folder beside it and swapped in by rename, so a failed run leaves the previous output as it was,
 * stale files disappear, and nothing outside `<outDir>/<subdir>` is touched.
 */
export function writeTree(outDir: string, subdir: string, files: readonly RenderedFile[]): void {
  assertInside(subdir);
  const seen = new Set<string>();
  for (const file of files) {
    assertInside(file.path);
    if (seen.has(file.path)) throw new Error(`two rendered files have the same path: ${file.path}`);
    seen.add(file.path);
  }
  mkdirSync(outDir, { recursive: true });
  const staging = mkdtempSync(join(outDir, `.${subdir}.staging-`));
  try {
    for (const file of [...files].sort((a, b) => a.path.localeCompare(b.path))) {
      const target = join(staging, file.path);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, file.content);
      chmodSync(target, file.mode ?? 0o644);
    }
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
  const final = join(outDir, subdir);
  const previous = `${staging}.previous`;
  const hadPrevious = existsSync(final);
  if (hadPrevious) renameSync(final, previous);
  try {
    renameSync(staging, final);
  } catch (err) {
    if (hadPrevious) renameSync(previous, final);
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
  if (hadPrevious) rmSync(previous, { recursive: true, force: true });
}

/** Every file below `dir`, by path relative to it with `/` (the writer's own staging folders left out). */
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
