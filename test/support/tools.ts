import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const known = new Map<string, boolean>();

/**
 * Whether a real tool (caddy, promtool, amtool) is on PATH. In CI (CI=true) a missing tool is a
 * failure: .ci/run installs them. Locally the tests are skipped and say why, once per tool.
 */
export function toolAvailable(tool: string): boolean {
  const cached = known.get(tool);
  if (cached !== undefined) return cached;
  let found = true;
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
  } catch {
    found = false;
  }
  if (!found && process.env.CI === 'true') {
    throw new Error(`${tool} is required in CI (CI=true) but is not installed; .ci/run installs it with apt-get`);
  }
  if (!found) console.warn(`skipping ${tool} checks: ${tool} is not installed (apt-get install caddy prometheus prometheus-alertmanager)`);
  known.set(tool, found);
  return found;
}

/** A tool's exit status and everything it printed. */
export interface ToolRun {
  readonly status: number | null;
  /** stdout and stderr as one text, in the order the tool wrote them. */
  readonly output: string;
}

/**
 * Run `tool` without blocking the worker, so that independent tools run side by side. Its stdout
 * and stderr go to one file: tools that check many files at once (promtool, amtool) print a file's
 * heading on stdout and its errors on stderr, and only one stream keeps each error under its file.
 *
 * The Go tools (promtool, amtool, caddy) run their Go code on one thread (GOMAXPROCS=1, unless the
 * caller's environment says otherwise): by default each spreads its goroutines and garbage collector
 * over every core, and several of them side by side on two cores spend that contending. Measured:
 * `promtool test rules` over the 45 alert proofs in two processes side by side took 3.5 CPU-s and
 * 2.1 s by default, 2.8 CPU-s and 1.6 s with GOMAXPROCS=1, with the same reports; alerts.test.ts
 * alone went from 10.6 to 9.2 CPU-s.
 */
export async function runTool(tool: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<ToolRun> {
  const dir = mkdtempSync(join(tmpdir(), 'platform-tool-'));
  const file = join(dir, 'output');
  const out = openSync(file, 'w');
  try {
    const env = { GOMAXPROCS: '1', ...(options.env ?? process.env) };
    const child = spawn(tool, args, { cwd: options.cwd, env, stdio: ['ignore', out, out] });
    const status = await new Promise<number | null>((resolve, reject) => child.on('error', reject).on('close', (code) => resolve(code)));
    return { status, output: readFileSync(file, 'utf8') };
  } finally {
    closeSync(out);
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The part of a many-file report that is about each file: from the line that starts with
 * `heading(file)` to the next file's heading. Throws when a file has none (the tool stopped early).
 */
export function sectionsByFile(output: string, files: readonly string[], heading: (file: string) => string): Map<string, string> {
  const starts = files.map((file) => {
    const at = output.search(new RegExp(`^${heading(file).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?=[ \\t]|$)`, 'm'));
    if (at < 0) throw new Error(`no report for ${file} (heading "${heading(file)}") in:\n${output}`);
    return { file, at };
  });
  const sorted = [...starts].sort((a, b) => a.at - b.at);
  return new Map(sorted.map(({ file, at }, i) => [file, output.slice(at, sorted[i + 1]?.at ?? output.length)]));
}
