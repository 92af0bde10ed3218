import { cpSync, existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { sourceFiles } from '../../lib/diff/source-digest.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
/** The project's code as git lists it here (CI may check out without history), listed once. */
let sources: readonly string[] | undefined;

/**
 * A copy of this checkout's code in `dir` (created): what a revision builds from, or a bundle is
 * made of, as it is in this working tree, with this checkout's node_modules linked in.
 */
export function copyOfCheckout(dir: string): string {
  for (const file of (sources ??= sourceFiles(ROOT))) {
    if (!existsSync(join(ROOT, file))) continue; // deleted, not yet committed
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    cpSync(join(ROOT, file), join(dir, file));
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}
