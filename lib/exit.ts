import { CommanderError } from 'commander';
import { ConfigError, UsageError } from './config/errors.js';
import { describeOsError } from './output/writer.js';
import { formatRefusal } from './validate/report.js';
import { ValidationFailed } from './synth.js';

/** Exit codes: 0 done, 1 findings (validate, diff, synth --check) or an unexpected failure, 2 bad input (config, arguments, the machine refusing a write). */
export const EXIT_FINDINGS = 1;
export const EXIT_BAD_INPUT = 2;

/**
 * What the CLI prints for an error and the exit code. Everything the user can cause (a config,
 * an argument, a full or read-only disk) is one line per problem and exit 2; only a bug in the
 * platform itself prints a stack trace and exits 1.
 */
export function reportError(err: unknown): { code: number; text: string } {
  if (err instanceof CommanderError) {
    // Commander has already printed its own message (and the help) for its errors.
    return { code: err.exitCode === 0 ? 0 : EXIT_BAD_INPUT, text: err.code === 'platform.diff' ? `${err.message}\n` : '' };
  }
  if (err instanceof Error && err.name === 'DiffError') return { code: EXIT_BAD_INPUT, text: `error: ${err.message}\n` };
  if (err instanceof ValidationFailed) return { code: EXIT_BAD_INPUT, text: formatRefusal(err.validation) };
  if (err instanceof ConfigError) {
    // A file that cannot be read or parsed is one line; a config with wrong keys lists each.
    return { code: EXIT_BAD_INPUT, text: err.issues.length > 0 ? `error: invalid config\n${err.message}\n` : `error: ${err.message}\n` };
  }
  if (err instanceof UsageError) return { code: EXIT_BAD_INPUT, text: `error: ${err.message}\n` };
  const reason = describeOsError(err);
  if (reason) {
    const { path, syscall } = err as NodeJS.ErrnoException;
    return { code: EXIT_BAD_INPUT, text: `error: ${[syscall ?? 'cannot', path].filter(Boolean).join(' ')}: ${reason}\n` };
  }
  return { code: 1, text: `error: ${(err as Error)?.stack ?? String(err)}\n` };
}
