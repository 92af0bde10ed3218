import { execFileSync } from 'node:child_process';

/**
 * Whether a real tool (caddy, promtool, amtool) is on PATH. In CI (CI=true) a missing tool is a
 * failure: .ci/run installs them. Locally the test is skipped and says why.
 */
export function toolAvailable(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.CI === 'true') {
      throw new Error(`${tool} is required in CI (CI=true) but is not installed; .ci/run installs it with apt-get`);
    }
    console.warn(`skipping ${tool} checks: ${tool} is not installed (apt-get install caddy prometheus prometheus-alertmanager)`);
    return false;
  }
}
