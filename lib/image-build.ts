import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ImageBuild } from './images.js';
import { compareText } from './output/order.js';

/** A file of a build context, as written beside the rendered stack. */
export interface BuildFile {
  readonly name: string;
  readonly content: string;
}

/** The repository root (the folder with package.json), from lib/ or build/lib/. */
function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'images'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the images/ folder of the platform repository');
    dir = parent;
  }
}

const cache = new Map<string, readonly BuildFile[]>();

/** The files of a build context: each source folder's files, later folders replacing earlier names, sorted by name. */
export function buildContextFiles(build: ImageBuild): readonly BuildFile[] {
  const key = build.sources.join('+');
  const cached = cache.get(key);
  if (cached) return cached;
  const root = join(repositoryRoot(), 'images');
  const files = new Map<string, string>();
  for (const source of build.sources) {
    const dir = join(root, source);
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (!statSync(path).isFile() || name.startsWith('.')) continue;
      files.set(name, readFileSync(path, 'utf8'));
    }
  }
  const out = [...files.entries()].sort(([a], [b]) => compareText(a, b)).map(([name, content]) => ({ name, content }));
  cache.set(key, out);
  return out;
}

/** sha256 over a context: name, NUL, content, NUL per file, in name order. */
export function buildContextSha256(files: readonly BuildFile[]): string {
  const hash = createHash('sha256');
  for (const f of [...files].sort((a, b) => compareText(a.name, b.name))) hash.update(`${f.name}\0${f.content}\0`);
  return hash.digest('hex');
}
