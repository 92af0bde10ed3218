import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { removeAbandonedRunFolders } from './support/build.js';

/*
 * The suite's own temp folder (test/support/build.ts, the global setup): every program the run
 * starts writes below it, and it goes at the end; a run stopped before its teardown (Ctrl-C) leaves
 * it, and the next run removes it.
 */
describe("the test run's temp folder", () => {
  it('is the TMPDIR of the workers, named by the pid of vitest\'s main process', () => {
    expect(process.env.TMPDIR).toMatch(/\/platform-test-run-\d+-[^/]+$/);
    expect(tmpdir()).toBe(process.env.TMPDIR);
  });

  it("of a run that is gone is removed by the next run's setup; a live run's, and anything else, stays", () => {
    const base = mkdtempSync(join(tmpdir(), 'run-folders-'));
    // Above Linux's PID_MAX_LIMIT (2^22, include/linux/threads.h): a process that is never alive.
    const gone = `platform-test-run-${2 ** 22 + 1}-abc123`;
    const live = `platform-test-run-${process.pid}-def456`;
    for (const name of [gone, live, 'platform-test-run-Ab12Cd', 'other-folder']) {
      mkdirSync(join(base, name, 'pg', 'data'), { recursive: true });
      writeFileSync(join(base, name, 'pg', 'data', 'file'), 'x');
    }
    removeAbandonedRunFolders(base);
    expect(readdirSync(base).sort()).toEqual(['other-folder', 'platform-test-run-Ab12Cd', live].sort());
    rmSync(base, { recursive: true, force: true });
  });
});
