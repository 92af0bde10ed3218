import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildSync } from 'esbuild';
import type { TestProject } from 'vitest/node';
import { bundleIsCurrent } from '../../lib/diff/source-digest.js';
import { processAlive } from '../../lib/output/cleanup.js';
import { ramDisk } from './scratch.js';

const ROOT = resolve(import.meta.dirname, '..', '..');

/**
 * Bundles build/ from the sources, unless build/ already is the bundle of exactly these sources
 * (bundleIsCurrent, the same test scripts/build.mjs makes; decided here, in-process, to spare a
 * Node start when `npm test` has just built).
 */
function buildIfStale(): void {
  if (bundleIsCurrent(ROOT)) return;
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { stdio: 'inherit' });
}

/**
 * vitest's global setup: the CLI tests run `build/` as a user does (`npx platform`, `cdk8s synth`
 * through cdk8s.yaml), so it is bundled from the sources under test before any test file runs,
 * never left from an earlier build of other sources. It also makes the run's temp folder, removed
 * at the end, and in it the folder where the workers share renders (test/support/render-store.ts).
 */
export default function setup(project: TestProject): () => void {
  buildIfStale();
  const scratch = runTempFolder();
  const renders = join(scratch, 'renders');
  mkdirSync(renders);
  project.provide('renderStore', renders);
  // Watch mode runs the tests again after an edit, with this setup still alive: the renders of the
  // code before the edit go, and so does the stale build.
  project.onTestsRerun(() => {
    for (const entry of readdirSync(renders)) rmSync(join(renders, entry), { force: true });
    buildIfStale();
  });
  return () => rmSync(scratch, { recursive: true, force: true });
}

/**
 * The run's temp folder, made the TMPDIR of everything the run starts (the test workers start
 * after this setup, with its environment, and pass it on to the programs they run), and removed
 * after the last file: whatever a test leaves in its temp folder goes with it. On a RAM-backed file
 * system when there is one with 2 GiB free (tests write thousands of small files and run servers
 * there), else in the temp folder. Mode 1777, as /tmp: a server a test starts as its own user (the
 * Postgres tests run the server as `postgres`) may make its folders there too.
 */
function runTempFolder(): string {
  const base = ramDisk(2 * 1024 ** 3) ?? tmpdir();
  removeAbandonedRunFolders(base);
  const dir = mkdtempSync(join(base, `${RUN_FOLDER_PREFIX}${process.pid}-`));
  chmodSync(dir, 0o1777);
  process.env.TMPDIR = dir;
  return dir;
}

/** A run's temp folder is `<prefix><pid of vitest's main process>-<random>`. */
const RUN_FOLDER_PREFIX = 'platform-test-run-';
const RUN_FOLDER = new RegExp(`^${RUN_FOLDER_PREFIX}(\\d+)-`);

/**
 * The temp folders of runs that ended without their teardown: vitest stopped by Ctrl-C (SIGINT
 * ends it without running the global teardown) or killed. On /dev/shm each held its RAM (a few to
 * tens of MB) until the machine restarted. A folder goes when the process named in it is gone.
 */
export function removeAbandonedRunFolders(base: string): void {
  for (const name of readdirSync(base)) {
    const pid = Number(RUN_FOLDER.exec(name)?.[1]);
    if (!Number.isInteger(pid) || processAlive(pid)) continue;
    rmSync(join(base, name), { recursive: true, force: true });
  }
}

/**
 * One module of the sources as a plain ES module file, for a test's child process to import
 * (Node runs no TypeScript): compiled from the file under test when the test starts.
 */
export function compiledModule(entry: string, dir: string): string {
  const outfile = join(mkdtempSync(join(dir, 'module-')), 'module.mjs');
  buildSync({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.19',
    // As in scripts/build.mjs: the CommonJS dependencies' `require` of Node's own modules.
    banner: { js: "import { createRequire as __platformRequire } from 'node:module'; const require = __platformRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  return outfile;
}
