import { spawnSync, type SpawnSyncOptions, type SpawnSyncReturns } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { UsageError } from '../config/errors.js';
import { shellQuote } from '../output/shell.js';

/** What a command printed and how it ended. */
export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The program is not installed: the shell found no such command (`code` is 127 then, as a shell's). */
  readonly missing: boolean;
  /**
   * Set when the session's time limit ran out before the command ended, or before it began: why it
   * has no answer of its own (`code` is 124 then, as timeout(1) exits).
   */
  readonly cutShort?: string;
}

/** One read-only command of a session. */
export interface Probe {
  /** The program and its arguments; each word reaches the program as one argument, byte for byte. */
  readonly argv: readonly string[];
  /**
   * Run only when an earlier probe of the same session ended so: `zero` (it exited 0) or `failed`
   * (it was found and exited non-zero). Otherwise the probe is skipped and has no result.
   * @default always run
   */
  readonly when?: { readonly after: Probe; readonly ended: 'zero' | 'failed' };
}

/** The result of each probe that ran (or was due when the time ran out); a skipped probe has none. */
export type SessionResults = ReadonlyMap<Probe, CommandResult>;

/** A machine the doctor reads: this one, or one reached over ssh. Commands never change it. */
export interface Host {
  /** Where the commands run, for the report. */
  readonly description: string;
  /** Runs `probes` in order in one shell session on the machine, the whole session within `timeLimitMs`. */
  session(probes: readonly Probe[], timeLimitMs: number): SessionResults;
}

/** Exit status a shell gives a command it cannot find. */
const NOT_FOUND = 127;
/** Exit status timeout(1) gives a command it ended. */
const TIMED_OUT = 124;
/** Room for everything a session prints (kubectl's node list is the largest). */
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

/** `docker version --format '{{.Server.Version}}'`: a probe as the report shows it. */
export const commandLine = (argv: readonly string[]) => argv.map(shellQuote).join(' ');

/**
 * The POSIX sh script of one session. Each probe's words are shell-quoted here and nowhere else:
 * values from the config (interface names, site names, folders) reach the program as arguments and
 * never as shell code. After each probe the script prints a marker line to stdout (probe index and
 * how it ended: its exit status, `missing` or `skipped`) and one to stderr; each marker starts with a
 * newline of its own and holds `boundary`, random per session, so no program's output (any bytes,
 * with or without a last newline) can end a section early. A `start` marker on both streams comes
 * first: what a login shell's startup files print lands before it and is dropped.
 *
 * Every probe reads /dev/null: the script itself comes on the shell's stdin. `command -v` tells a
 * program that is not installed from one that fails, without the shell's "not found" message.
 */
export function sessionScript(probes: readonly Probe[], boundary: string): string {
  const index = new Map(probes.map((probe, i) => [probe, i]));
  const lines = [`printf '%s\\n' '${boundary} start'; printf '%s\\n' '${boundary} start' >&2`];
  probes.forEach((probe, i) => {
    const [program] = probe.argv;
    if (program === undefined) throw new Error('a probe needs a program');
    const status = `s${i}`;
    let step = `if command -v ${shellQuote(program)} >/dev/null 2>&1; then ${commandLine(probe.argv)} </dev/null; ${status}=$?; else ${status}=missing; fi`;
    if (probe.when) {
      const after = index.get(probe.when.after);
      if (after === undefined || after >= i) throw new Error(`probe ${commandLine(probe.argv)} waits for a probe that does not run before it`);
      step =
        probe.when.ended === 'zero'
          ? `case $s${after} in 0) ${step};; *) ${status}=skipped;; esac`
          : `case $s${after} in 0|missing|skipped) ${status}=skipped;; *) ${step};; esac`;
    }
    lines.push(step, `printf '\\n%s %s\\n' '${boundary} ${i}' "$${status}"; printf '\\n%s\\n' '${boundary} ${i}' >&2`);
  });
  lines.push('exit 0', '');
  return lines.join('\n');
}

/** What the session's shell printed, and why it stopped before the end, when it did. */
export interface SessionOutput {
  readonly stdout: Buffer;
  readonly stderr: Buffer;
  /** Why the output ends early, e.g. `did not finish within 30 s`; undefined when the shell ran to the end. */
  readonly stoppedEarly?: string;
}

/** Splits a session's output at its markers into one result per probe (see `sessionScript`). */
export function splitSession(probes: readonly Probe[], boundary: string, output: SessionOutput): SessionResults {
  const results = new Map<Probe, CommandResult>();
  const start = Buffer.from(`${boundary} start\n`);
  const outStart = output.stdout.indexOf(start);
  const errStart = output.stderr.indexOf(start);
  let out = outStart < 0 ? output.stdout.length : outStart + start.length;
  let err = errStart < 0 ? output.stderr.length : errStart + start.length;
  for (const [i, probe] of probes.entries()) {
    const outMarker = Buffer.from(`\n${boundary} ${i} `);
    const at = outStart < 0 ? -1 : output.stdout.indexOf(outMarker, out);
    const lineEnd = at < 0 ? -1 : output.stdout.indexOf('\n', at + outMarker.length);
    if (lineEnd < 0) {
      // This probe was running when the session stopped; the ones after it never began.
      const why = output.stoppedEarly ?? 'the shell ended without a word';
      const running = commandLine(probe.argv);
      results.set(probe, {
        code: TIMED_OUT,
        stdout: output.stdout.subarray(out).toString('utf8'),
        stderr: output.stderr.subarray(err).toString('utf8'),
        missing: false,
        cutShort: `\`${running}\` ${why}`,
      });
      for (const later of probes.slice(i + 1)) {
        results.set(later, { code: TIMED_OUT, stdout: '', stderr: '', missing: false, cutShort: `not run: \`${running}\` before it ${why}` });
      }
      break;
    }
    const stdout = output.stdout.subarray(out, at).toString('utf8');
    const ended = output.stdout.subarray(at + outMarker.length, lineEnd).toString('utf8');
    out = lineEnd + 1;
    const errMarker = Buffer.from(`\n${boundary} ${i}\n`);
    const errAt = output.stderr.indexOf(errMarker, err);
    const stderr = output.stderr.subarray(err, errAt < 0 ? undefined : errAt).toString('utf8');
    err = errAt < 0 ? output.stderr.length : errAt + errMarker.length;
    if (ended === 'skipped') continue;
    if (ended === 'missing') {
      results.set(probe, { code: NOT_FOUND, stdout, stderr, missing: true });
    } else if (/^\d+$/.test(ended)) {
      results.set(probe, { code: Number(ended), stdout, stderr, missing: false });
    } else {
      throw new Error(`doctor session: cannot read how \`${commandLine(probe.argv)}\` ended ("${ended}")`);
    }
  }
  return results;
}

/** How a session's shell is started: this machine's /bin/sh, or ssh to another one. */
interface ShellStart {
  readonly program: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
}

/**
 * One session: the script on the shell's stdin, all of it within `timeLimitMs`. The shell leads a
 * process group of its own, so when the time runs out the probe it waits for is ended with it
 * (killing the shell alone would leave that probe running, holding the output open). What the
 * shell printed before then still counts: the probes that ended keep their answers.
 */
function runSession(shell: ShellStart, probes: readonly Probe[], timeLimitMs: number): { results: SessionResults; run?: SpawnSyncReturns<Buffer> } {
  const limit = `${Number((Math.max(timeLimitMs, 0) / 1000).toFixed(3))} s`;
  const boundary = `platform-doctor-${randomBytes(16).toString('hex')}`;
  if (timeLimitMs <= 0) {
    const notRun: CommandResult = { code: TIMED_OUT, stdout: '', stderr: '', missing: false, cutShort: "not run: the doctor's time was used up" };
    return { results: new Map(probes.map((probe) => [probe, notRun])) };
  }
  const options: SpawnSyncOptions & { detached: boolean } = {
    input: sessionScript(probes, boundary),
    env: shell.env,
    timeout: timeLimitMs,
    killSignal: 'SIGKILL',
    // spawnSync honours `detached` (the shell leads a new process group) though its type leaves it out.
    detached: true,
    maxBuffer: MAX_OUTPUT_BYTES,
  };
  const run = spawnSync(shell.program, shell.args, options) as SpawnSyncReturns<Buffer>;
  const timedOut = (run.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT';
  if (timedOut && run.pid) {
    try {
      process.kill(-run.pid, 'SIGKILL');
    } catch {
      // The group is gone already: the probe ended with its shell.
    }
  }
  const stoppedEarly = timedOut ? `did not finish within the doctor's ${limit}` : run.error ? `stopped: ${run.error.message}` : `stopped: the shell exited ${run.status ?? run.signal}`;
  const results = splitSession(probes, boundary, { stdout: run.stdout ?? Buffer.alloc(0), stderr: run.stderr ?? Buffer.alloc(0), stoppedEarly });
  return { results, run };
}

/**
 * Reads this machine: one `/bin/sh` for the whole session, with `env` (its PATH decides which
 * programs are found). /bin/sh by its path: the PATH given may hold only the programs the checks read.
 */
export class LocalHost implements Host {
  readonly description = 'this machine';
  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  session(probes: readonly Probe[], timeLimitMs: number): SessionResults {
    const { results, run } = runSession({ program: '/bin/sh', args: ['-s'], env: this.env }, probes, timeLimitMs);
    if ((run?.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') throw new Error('doctor: this machine has no /bin/sh');
    return results;
  }
}

/** `user@host` or `host`: letters, digits and `. _ -` (a leading `-` would be read as an ssh option). */
const SSH_TARGET = /^(?:[A-Za-z0-9._][A-Za-z0-9._-]*@)?[A-Za-z0-9._][A-Za-z0-9._:-]*$/;

/**
 * Reads another machine through one `ssh` connection per session (batch mode: a key, never a
 * password prompt). The remote command is only `/bin/sh -s`, the same for any login shell; the
 * script follows on the connection's stdin, so it never passes through the login shell's parser.
 */
export class SshHost implements Host {
  readonly description: string;
  constructor(
    private readonly target: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    if (!SSH_TARGET.test(target) || target.startsWith('-')) {
      throw new UsageError(`--ssh: got "${target}"; must be user@host or host (letters, digits, . _ -)`);
    }
    this.description = `ssh ${target}`;
  }

  session(probes: readonly Probe[], timeLimitMs: number): SessionResults {
    const ssh = { program: 'ssh', args: ['-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', this.target, '--', '/bin/sh -s'], env: this.env };
    const { results, run } = runSession(ssh, probes, timeLimitMs);
    if ((run?.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') throw new UsageError('--ssh needs the ssh client on this machine');
    // ssh's own failures (unreachable host, refused key) exit 255; the script itself always exits 0.
    if (run?.status === 255) throw new UsageError(`ssh ${this.target}: ${run.stderr.toString('utf8').trim().split('\n').pop() ?? 'connection failed'}`);
    return results;
  }
}
