import { main } from '../../lib/cli.js';

/**
 * Run a `platform` command in this process, as bin/platform.ts does (the same main, the same error
 * handling), for tests whose behaviour is not the process's own (its exit status as the OS sees it,
 * signals, start-up): those run build/bin/platform.js in a child process. Relative paths are from the
 * test run's working directory (the repository), or for `platform diff` from `cwd` (the folder the
 * command runs in; the process's own stays as it is). Output as execa gives it: one final newline dropped.
 */
export async function platformInProcess(args: readonly string[], options: { cwd?: string } = {}): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const { cwd } = options;
  const exitCode = await main(args, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    ...(cwd === undefined ? {} : { cwd: () => cwd }),
  });
  return { exitCode, stdout: stdout.replace(/\n$/, ''), stderr: stderr.replace(/\n$/, '') };
}
