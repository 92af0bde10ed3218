import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The folder the global setup made for renders shared by the workers of this run. */
    renderStore: string;
  }
}

/*
 * Renders shared by every worker of one vitest run. Each worker keeps its own RenderCache (render.ts),
 * but the three workers render the same configs (the reference platform, each fixture) three times
 * over: a k3s render and the parse of its files cost a few hundred milliseconds of CPU, reading
 * them back as JSON a few. The folder is made by the global setup (test/support/build.ts) for this
 * run and removed after it, so a stored render always comes from the code under test. A render is
 * a pure function of the validated config and the target, which is what its key holds.
 */

const store = inject('renderStore');

function fileOf(kind: string, key: string): string {
  return join(store, `${kind}-${createHash('sha256').update(key).digest('hex')}.json`);
}

/** What another worker stored under `key`, or undefined. */
export function storedRender<T>(kind: string, key: string): T | undefined {
  let text: string;
  try {
    text = readFileSync(fileOf(kind, key), 'utf8');
  } catch {
    return undefined;
  }
  return JSON.parse(text) as T;
}

/** Store a render for the other workers: written aside, then renamed, so a reader sees all of it or none. */
export function storeRender(kind: string, key: string, value: unknown): void {
  const file = fileOf(kind, key);
  const aside = `${file}.${process.pid}`;
  writeFileSync(aside, JSON.stringify(value));
  renameSync(aside, file);
}
