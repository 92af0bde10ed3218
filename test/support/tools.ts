import { execFileSync } from 'node:child_process';

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
