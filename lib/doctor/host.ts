import { spawnSync } from 'node:child_process';
import { UsageError } from '../config/errors.js';

/** What a command printed and how it ended; `missing` when the program is not installed. */
export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly missing: boolean;
}

/** A machine the doctor reads: this one, or one reached over ssh. Commands never change it. */
export interface Host {
  /** Where the commands run, for the report. */
  readonly description: string;
  run(argv: readonly string[]): CommandResult;
}

/** POSIX shell quoting: the word arrives as is, whatever it holds. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Exit status a shell gives a command it cannot find. */
const NOT_FOUND = 127;
const TIMEOUT_MS = 30_000;

/** Runs each command on this machine, with `env` (PATH decides which programs are found). */
export class LocalHost implements Host {
  readonly description = 'this machine';
  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  run(argv: readonly string[]): CommandResult {
    const [program, ...args] = argv;
    const result = spawnSync(program as string, args, { encoding: 'utf8', env: this.env, timeout: TIMEOUT_MS });
    const missing = (result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
    return { code: missing ? NOT_FOUND : (result.status ?? 1), stdout: result.stdout ?? '', stderr: result.stderr ?? String(result.error ?? ''), missing };
  }
}

/** `user@host` or `host`: letters, digits and `. _ -` (a leading `-` would be read as an ssh option). */
const SSH_TARGET = /^(?:[A-Za-z0-9._][A-Za-z0-9._-]*@)?[A-Za-z0-9._][A-Za-z0-9._:-]*$/;

/**
 * Runs each command on another machine through `ssh` (batch mode: a key, never a password prompt).
 * The remote shell gets one quoted command line; a program it cannot find exits 127.
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

  run(argv: readonly string[]): CommandResult {
    const command = argv.map(shellQuote).join(' ');
    const result = spawnSync('ssh', ['-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', this.target, '--', command], {
      encoding: 'utf8',
      env: this.env,
      timeout: TIMEOUT_MS,
    });
    if ((result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') throw new UsageError('--ssh needs the ssh client on this machine');
    // ssh's own failures (unreachable host, refused key) exit 255.
    if (result.status === 255) throw new UsageError(`ssh ${this.target}: ${(result.stderr ?? '').trim().split('\n').pop() ?? 'connection failed'}`);
    const code = result.status ?? 1;
    return { code, stdout: result.stdout ?? '', stderr: result.stderr ?? '', missing: code === NOT_FOUND };
  }
}
