import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/*
 * The rendered Caddyfile is written for the pinned image (caddy 2.10). The tests run the Caddy that
 * Debian 12 installs, 2.6.2, which serves the same sites but predates the global `metrics` option
 * (Caddy 2.9.0: caddyconfig/httpcaddyfile/options.go registers "metrics" with `per_host`). For an
 * older Caddy the tests drop that block, and only that block; test/dashboards.test.ts checks what the rules rely on.
 */

let installed: [number, number] | undefined;

/** Major and minor version of the `caddy` on PATH (`caddy version`: "2.6.2" or "v2.10.0 h1:..."). */
export function installedCaddyVersion(): [number, number] {
  if (!installed) {
    const out = execFileSync('caddy', ['version'], { encoding: 'utf8' });
    const match = /v?(\d+)\.(\d+)\./.exec(out);
    installed = match ? [Number(match[1]), Number(match[2])] : [0, 0];
  }
  return installed;
}

/** The global metrics block of the rendered Caddyfile. */
export const GLOBAL_METRICS_BLOCK = '\tmetrics {\n\t\tper_host\n\t}\n';

/** `text` as the installed Caddy reads it: without the global metrics option before 2.9. */
export function caddyfileForInstalledCaddy(text: string): string {
  const [major, minor] = installedCaddyVersion();
  if (major > 2 || (major === 2 && minor >= 9)) return text;
  return text.replace(GLOBAL_METRICS_BLOCK, '');
}

let copies: string | undefined;
let copied = 0;

/**
 * The path of a copy of the Caddyfile at `path` for the installed Caddy (the file itself when
 * nothing changes), written under the system's temporary folder, never beside the rendered tree.
 */
export function caddyfilePathForInstalledCaddy(path: string): string {
  const text = readFileSync(path, 'utf8');
  const adapted = caddyfileForInstalledCaddy(text);
  if (adapted === text) return path;
  if (copies === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'platform-installed-caddy-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    copies = dir;
  }
  copied += 1;
  const copy = join(copies, `Caddyfile-${copied}`);
  writeFileSync(copy, adapted);
  return copy;
}
