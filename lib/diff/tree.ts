import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../config/errors.js';
import { listFiles, recoverTree } from '../output/writer.js';

/** The rendered targets a tree can hold. */
export const TARGET_FOLDERS = ['compose', 'k3s'];

/** Every file of a rendered output folder (its `compose/` and `k3s/`), by path with `/`. */
export function readTree(dir: string): Map<string, string> {
  if (!existsSync(dir)) throw new UsageError(`${dir}: no such folder`);
  if (!statSync(dir).isDirectory()) throw new UsageError(`${dir}: not a folder`);
  // A swap killed between its two renames is finished first (see writeTree).
  for (const target of TARGET_FOLDERS) recoverTree(dir, target);
  const targets = TARGET_FOLDERS.filter((t) => existsSync(join(dir, t)) && statSync(join(dir, t)).isDirectory());
  if (targets.length === 0) throw new UsageError(`${dir} holds no rendered tree (no ${TARGET_FOLDERS.join('/ or ')}/ folder)`);
  const files = new Map<string, string>();
  for (const target of targets) {
    for (const path of listFiles(join(dir, target))) files.set(`${target}/${path}`, readFileSync(join(dir, target, path), 'utf8'));
  }
  return files;
}
