import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './process.js';
import { ramDisk } from './scratch.js';

/**
 * A throwaway Postgres cluster from the Debian `postgresql` package, on 127.0.0.1 and a free port,
 * in a folder of its own on tmpfs or in the temp folder (see clusterRoot). initdb refuses to run as root (CI runs as root): then the server runs as the
 * package's `postgres` user through runuser. Logins go over TCP with SCRAM passwords, like a client
 * in another container. Each cluster is a copy of a data directory initdb made once (see
 * clusterTemplate), so it starts in a fraction of initdb's time and shares nothing with another cluster.
 */
export interface TestCluster {
  readonly port: number;
  readonly binDir: string;
  readonly shareDir: string;
  /**
   * PATH with the server's client programs first (psql, pg_dump, pg_restore), as in the postgres
   * image: Debian's /usr/bin/psql is pg_wrapper, a Perl script that picks a version and then runs
   * the same program, and costs more CPU than the program itself.
   */
  readonly path: string;
  /** psql as `user` with `password` (TCP, 127.0.0.1), extra environment and args. */
  psql(env: Record<string, string>, args: string[]): SpawnSyncReturns<string>;
  /**
   * Several commands in ONE psql session as the role and database in `env`, each answered on its
   * own: a psql process costs a fork, an exec and a SCRAM login (a few ms of CPU each), so checks
   * that need no session of their own share one. Each command is a `-c` of its own, as if run
   * alone: SQL in its own transaction, or a meta-command such as `\connect db`. No ON_ERROR_STOP:
   * a refused command is answered and the next one still runs. Throws if psql itself fails to start
   * or log in (then no command ran).
   */
  psqlEach(env: Record<string, string>, commands: readonly string[]): PsqlAnswer[];
  stop(): void;
}

/** What one command of a `psqlEach` session printed. */
export interface PsqlAnswer {
  /** Its rows (psql -A -t), trimmed. */
  readonly stdout: string;
  /** Its errors and notices, trimmed. */
  readonly stderr: string;
  /** psql's ERROR variable after it: whether the last SQL command failed (a meta-command leaves it as it was). */
  readonly failed: boolean;
}

/** Ends each command's output in a `psqlEach` session, on stdout (with psql's ERROR) and on stderr. */
const ANSWER_END = '--platform-psql-answer-end--';

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

/** The bootstrap superuser and a second superuser of the template data directory, renamed and dropped per cluster. */
const TEMPLATE_SUPERUSER = 'platform_template_admin';
const TEMPLATE_HELPER = 'platform_template_helper';
/**
 * How the template is made: part of its folder's name, so a change here never reuses an old one.
 * --wal-segsize=1 (MB, the smallest initdb takes; the default is 16): the template's one WAL
 * segment is copied for every cluster, and a test cluster writes a few MB of WAL at most.
 */
const INITDB_OPTIONS = ['-U', TEMPLATE_SUPERUSER, '--auth-host=scram-sha-256', '--auth-local=scram-sha-256', '--locale=C.UTF-8', '-E', 'UTF8', '--wal-segsize=1'];

interface Template {
  readonly binDir: string;
  readonly shareDir: string;
  readonly data: string;
  readonly password: string;
  readonly asRoot: boolean;
}

let template: Template | undefined;

/** Runs a Postgres program as the `postgres` user when the tests run as root (initdb and the server refuse root). */
function runAsOwner(asRoot: boolean, cwd: string, cmd: string, args: string[], input?: string): void {
  const full = asRoot ? (['runuser', ['-u', 'postgres', '--', cmd, ...args]] as const) : ([cmd, args] as const);
  const result = spawnSync(full[0], [...full[1]], { encoding: 'utf8', cwd, input });
  if (result.status !== 0) throw new Error(`${cmd} failed: ${result.stderr}${result.stdout}`);
}

/** Room a tmpfs must have for the template and the clusters of the test processes running at once. */
const TMPFS_ROOM = 1024 ** 3;
let root: string | undefined;

/**
 * Where the template and the clusters live: /dev/shm (tmpfs) when it has a GiB free, else the temp
 * folder. Each cluster starts as a copy of the template's ~28 MB: on this machine's ext4 that copy
 * cost ~0.3 s of kernel CPU, on tmpfs ~0.05 s, and the server's own writes get cheaper too. A
 * container's /dev/shm is often 64 MB (Docker's default), too small: then the temp folder.
 */
function clusterRoot(): string {
  root ??= ramDisk(TMPFS_ROOM) ?? tmpdir();
  return root;
}

let postgresIds: { uid: number; gid: number } | undefined;

/** A folder the server's user owns (mode 0700): the tests may run as root, the server may not. */
function ownedFolder(prefix: string, asRoot: boolean): string {
  const dir = mkdtempSync(join(clusterRoot(), prefix));
  if (asRoot) {
    postgresIds ??= {
      uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()),
      gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()),
    };
    const { uid, gid } = postgresIds;
    chownSync(dir, uid, gid);
    chmodSync(dir, 0o700);
  }
  return dir;
}

/**
 * initdb is most of a cluster's start-up, so it runs once per machine and Postgres build: its data
 * directory, which no server ever runs in, is kept beside the clusters (clusterRoot) under a name made from the
 * build and the options, and copied for every cluster. Each test file still gets a cluster of its
 * own that no other file has touched. Made in a folder of its own and renamed into place, so a
 * test process never sees a half-made one, and two processes making it at once both succeed.
 */
function clusterTemplate(): Template {
  if (template) return template;
  const binDir = postgresBinDir() as string;
  const shareDir = execFileSync(join(binDir, 'pg_config'), ['--sharedir'], { encoding: 'utf8' }).trim();
  const version = execFileSync(join(binDir, 'pg_config'), ['--version'], { encoding: 'utf8' }).trim();
  const asRoot = process.getuid?.() === 0;
  const key = createHash('sha256').update(JSON.stringify([binDir, version, INITDB_OPTIONS, TEMPLATE_HELPER, process.getuid?.()])).digest('hex').slice(0, 16);
  const dir = join(clusterRoot(), `platform-pg-template-${key}`);
  if (!existsSync(join(dir, 'password'))) {
    const build = ownedFolder('platform-pg-template-build-', asRoot);
    try {
      const password = randomBytes(18).toString('base64url');
      const pwfile = join(build, 'pw');
      writeFileSync(pwfile, `${password}\n`, { mode: 0o644 });
      // --no-sync: a throwaway cluster (its server runs with fsync=off too).
      runAsOwner(asRoot, build, join(binDir, 'initdb'), ['-D', join(build, 'data'), ...INITDB_OPTIONS, `--pwfile=${pwfile}`, '--no-sync']);
      rmSync(pwfile);
      // The superuser that renames a cluster's bootstrap superuser (a role cannot rename itself), made in single-user mode.
      runAsOwner(asRoot, build, join(binDir, 'postgres'), ['--single', '-D', join(build, 'data'), '-c', 'fsync=off', 'postgres'], `CREATE ROLE ${TEMPLATE_HELPER} SUPERUSER LOGIN PASSWORD '${password}';\n`);
      writeFileSync(join(build, 'password'), password, { mode: 0o600 });
      renameSync(build, dir);
    } catch (error) {
      rmSync(build, { recursive: true, force: true });
      // Another test process made it first.
      if (!existsSync(join(dir, 'password'))) throw error;
    }
  }
  template = { binDir, shareDir, data: join(dir, 'data'), password: readFileSync(join(dir, 'password'), 'utf8'), asRoot };
  return template;
}

/**
 * The server's status as it writes it into postmaster.pid (line 1 its pid, line 8 `ready` once it
 * takes connections; src/include/utils/pidfile.h), or undefined while there is no such file.
 * pg_ctl -w reads the same file, but sleeps 100 ms between reads; read here every 10 ms.
 */
function postmasterPid(data: string): { pid: number; status: string } | undefined {
  try {
    const lines = readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n');
    return { pid: Number(lines[0]), status: (lines[7] ?? '').trim() };
  } catch {
    return undefined;
  }
}

async function waitUntilReady(data: string, log: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (postmasterPid(data)?.status !== 'ready') {
    const logged = existsSync(log) ? readFileSync(log, 'utf8') : '';
    if (/^\S.*(FATAL|PANIC):/m.test(logged) || Date.now() > deadline) throw new Error(`the test Postgres server did not start: ${logged}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Immediate shutdown, as `pg_ctl -m immediate stop`: SIGQUIT to the postmaster, then wait until it
 * removes postmaster.pid on its way out (before the folder is deleted under it).
 */
function stopServer(data: string): void {
  const running = postmasterPid(data);
  if (running === undefined || !(running.pid > 0)) return;
  try {
    process.kill(running.pid, 'SIGQUIT');
  } catch {
    return;
  }
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + 30_000;
  while (existsSync(join(data, 'postmaster.pid')) && Date.now() < deadline) Atomics.wait(pause, 0, 0, 5);
}

/**
 * A fresh cluster whose bootstrap superuser (the owner of every database, as `initdb -U` makes it)
 * is `superuser` with `superPassword`, and no other role.
 */
export async function startCluster(superuser: string, superPassword: string): Promise<TestCluster> {
  const { binDir, shareDir, data: templateData, password: templatePassword, asRoot } = clusterTemplate();
  const dir = ownedFolder('platform-pg-', asRoot);
  const data = join(dir, 'data');
  // As root, cp -a keeps the owner (postgres) of the template's files: no runuser needed.
  const copy = spawnSync('cp', ['-a', templateData, data], { encoding: 'utf8' });
  if (copy.status !== 0) throw new Error(`copying the template cluster failed: ${copy.stderr}`);
  const port = await freePort();
  // -W: pg_ctl returns once the server is launched; whether it is ready is read here (waitUntilReady).
  runAsOwner(asRoot, dir, join(binDir, 'pg_ctl'), [
    '-D', data, '-l', join(dir, 'log'), '-W',
    '-o', `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir} -c fsync=off`,
    'start',
  ]);
  try {
    await waitUntilReady(data, join(dir, 'log'));
  } catch (error) {
    stopServer(data);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const path = `${binDir}:${process.env.PATH ?? '/usr/bin:/bin'}`;
  const psql = (env: Record<string, string>, args: string[], input?: string) =>
    spawnSync(join(binDir, 'psql'), ['--no-psqlrc', '-X', '-q', '-A', '-t', ...args], {
      encoding: 'utf8',
      input,
      env: { PATH: path, PGHOST: '127.0.0.1', PGPORT: String(port), PGCONNECT_TIMEOUT: '5', ...env },
    });
  const stop = () => {
    try {
      stopServer(data);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  /*
   * One session as the helper: it renames the bootstrap superuser and sets its password, then
   * becomes it (SET SESSION AUTHORIZATION, which a superuser's session may do) and drops the
   * helper, which is then neither the session nor the current user, the two roles DROP ROLE
   * refuses to drop (src/backend/commands/user.c, DropRole). One psql and one login fewer per
   * cluster than a second session as the superuser. The password travels in the environment
   * (psql's \getenv), never on a command line.
   */
  const setup = psql(
    { PGUSER: TEMPLATE_HELPER, PGPASSWORD: templatePassword, PGDATABASE: 'postgres', PLATFORM_SUPERUSER: superuser, PLATFORM_SUPER_PASSWORD: superPassword },
    ['-v', 'ON_ERROR_STOP=1'],
    `\\getenv su PLATFORM_SUPERUSER
\\getenv pw PLATFORM_SUPER_PASSWORD
ALTER ROLE ${TEMPLATE_SUPERUSER} RENAME TO :"su";
ALTER ROLE :"su" PASSWORD :'pw';
SET SESSION AUTHORIZATION :"su";
DROP ROLE ${TEMPLATE_HELPER};
`,
  );
  if (setup.status !== 0) {
    stop();
    throw new Error(`setting up the superuser of the test cluster failed: ${setup.stderr}`);
  }
  return {
    port,
    binDir,
    shareDir,
    path,
    psql: (env, args) => psql(env, args),
    psqlEach: (env, commands) => {
      // \echo goes to stdout and \warn to stderr after every command, so both streams split into one part per command.
      const args = commands.flatMap((command) => ['-c', command, '-c', `\\echo ${ANSWER_END} :ERROR`, '-c', `\\warn ${ANSWER_END}`]);
      const result = psql(env, args);
      // Before the session's first SQL command psql has no ERROR variable and echoes `:ERROR` as it is.
      const out = result.stdout.split(new RegExp(`^${ANSWER_END} (true|false|:ERROR)\\n`, 'm'));
      const err = result.stderr.split(`${ANSWER_END}\n`);
      if (result.status !== 0 || out.length !== 2 * commands.length + 1 || err.length !== commands.length + 1) {
        throw new Error(`psql session as ${env.PGUSER} on ${env.PGDATABASE} did not answer each of its ${commands.length} commands (exit ${result.status}): ${result.stderr}`);
      }
      return commands.map((_, i) => ({ stdout: (out[2 * i] as string).trim(), stderr: (err[i] as string).trim(), failed: out[2 * i + 1] === 'true' }));
    },
    stop,
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
