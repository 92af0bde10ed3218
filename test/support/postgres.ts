import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A throwaway Postgres cluster from the Debian `postgresql` package, on 127.0.0.1 and a free port,
 * in a temp folder. initdb refuses to run as root (CI runs as root): then the server runs as the
 * package's `postgres` user through runuser. Logins go over TCP with SCRAM passwords, like a client
 * in another container.
 */
export interface TestCluster {
  readonly port: number;
  readonly binDir: string;
  readonly shareDir: string;
  /** psql as `user` with `password` (TCP, 127.0.0.1), extra environment and args. */
  psql(env: Record<string, string>, args: string[]): SpawnSyncReturns<string>;
  stop(): void;
}

/** The newest /usr/lib/postgresql/<major>/bin with initdb, or undefined. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return majors[0] === undefined ? undefined : join(root, majors[0], 'bin');
}

/** Whether a real Postgres can be started here; in CI its absence is a failure (.ci/run installs it). */
export function postgresAvailable(): boolean {
  const found = postgresBinDir() !== undefined && spawnSync('sh', ['-c', 'command -v psql']).status === 0;
  if (!found && process.env.CI === 'true') {
    throw new Error('postgresql is required in CI (CI=true) but is not installed; .ci/run installs it with apt-get');
  }
  if (!found) console.warn('skipping real-Postgres tests: postgresql is not installed (apt-get install postgresql)');
  return found;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export async function startCluster(superuser: string, superPassword: string): Promise<TestCluster> {
  const binDir = postgresBinDir() as string;
  const shareDir = execFileSync(join(binDir, 'pg_config'), ['--sharedir'], { encoding: 'utf8' }).trim();
  const dir = mkdtempSync(join(tmpdir(), 'platform-pg-'));
  const data = join(dir, 'data');
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, `${superPassword}\n`, { mode: 0o600 });
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
    chownSync(pwfile, uid, gid);
    chmodSync(dir, 0o700);
  }
  const run = (cmd: string, args: string[]) => {
    const full = asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] as const : [cmd, args] as const;
    const result = spawnSync(full[0], [...full[1]], { encoding: 'utf8', cwd: dir });
    if (result.status !== 0) throw new Error(`${cmd} failed: ${result.stderr}${result.stdout}`);
  };
  const port = await freePort();
  run(join(binDir, 'initdb'), ['-D', data, '-U', superuser, `--pwfile=${pwfile}`, '--auth-host=scram-sha-256', '--auth-local=scram-sha-256', '--locale=C.UTF-8', '-E', 'UTF8']);
  run(join(binDir, 'pg_ctl'), [
    '-D', data, '-l', join(dir, 'log'), '-w', '-t', '60',
    '-o', `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir} -c fsync=off`,
    'start',
  ]);
  return {
    port,
    binDir,
    shareDir,
    psql(env, args) {
      return spawnSync('psql', ['--no-psqlrc', '-X', '-q', '-A', '-t', ...args], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PGHOST: '127.0.0.1', PGPORT: String(port), PGCONNECT_TIMEOUT: '5', ...env },
      });
    },
    stop() {
      try {
        run(join(binDir, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * Python's urllib.parse.quote_plus (what LiteLLM applies to DATABASE_USERNAME/PASSWORD/NAME):
 * everything but letters, digits and `_.-~` percent-encoded as UTF-8, space as `+`.
 */
export function quotePlus(text: string): string {
  return [...Buffer.from(text, 'utf8')]
    .map((byte) => {
      const c = String.fromCharCode(byte);
      if (/[A-Za-z0-9_.\-~]/.test(c)) return c;
      if (c === ' ') return '+';
      return `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}
