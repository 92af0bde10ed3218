import type { ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo, type Server } from 'node:net';

/**
 * `count` distinct ports the kernel says are free on 127.0.0.1, for programs a test starts. All are
 * held open at once, then closed: taken one at a time, the kernel can hand a just-closed port out
 * again, and two servers of one test would be given the same port.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = Array.from({ length: count }, () => createServer());
  await Promise.all(servers.map((server) => new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve))));
  const ports = servers.map((server) => (server.address() as AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  return ports;
}

/** One port the kernel says is free on 127.0.0.1 (see freePorts). */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0] as number;
}

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
