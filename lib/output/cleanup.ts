import { lstatSync, rmSync, unlinkSync } from 'node:fs';

/*
 * Clearing up after runs that were killed: the writer's leftovers beside a tree, the bundler's in
 * .build/, the test suite's temp folders. Each decides what is left over by whether the process
 * that made it is still running, and removes it with removePath.
 */

/** Whether process `pid` is running (signal 0 tests for it without sending anything; EPERM: it runs as another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove `path`, whatever it is: a folder with everything in it, a file, or a symbolic link itself,
 * never what the link names. `rmSync(path, { recursive: true, force: true })` alone is not enough:
 * from Node 23 on, rmSync looks through a link at `path`, so it silently leaves a link whose target
 * is gone (that is `force` ignoring the target's ENOENT) and refuses a link to a folder without
 * `recursive` (ERR_FS_EISDIR); nodejs/node#61020, fixed upstream by #61040. Measured here: Node
 * 20.20 removes both links, Node 24.11 leaves the dangling one. Links inside a removed folder are
 * removed, not followed, on both.
 */
export function removePath(path: string): void {
  let isFolder: boolean;
  try {
    isFolder = lstatSync(path).isDirectory();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (isFolder) {
    rmSync(path, { recursive: true, force: true });
    return;
  }
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
