import type { ChildProcess } from 'node:child_process';

/**
 * Stop a program the test started and wait until it has exited (SIGKILL after 10 s). A server
 * writes into its data folder on SIGTERM (Alertmanager its silences and notification log,
 * Prometheus its TSDB head), so removing that folder right after `kill()` races with it: ENOTEMPTY.
 */
export function stopped(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  return exited.finally(() => clearTimeout(killer));
}
