import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

/*
 * `engines.node` is the Node.js the project promises to run on: every locked package (dev tools
 * included) must accept its lowest version, or `npm ci` warns EBADENGINE on a supported Node.
 */

const root = join(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { engines?: { node?: string } | string[] }> };
const minimum = semver.minVersion(pkg.engines.node)?.version ?? '';

describe('engines', () => {
  it('every locked package accepts the lowest Node.js of engines.node', () => {
    const refusing = Object.entries(lock.packages)
      .filter(([name, p]) => name !== '' && !Array.isArray(p.engines) && typeof p.engines?.node === 'string' && !semver.satisfies(minimum, p.engines.node))
      .map(([name, p]) => `${name} (${(p.engines as { node: string }).node})`);
    expect(refusing).toEqual([]);
  });

  it('the README names the same minimum', () => {
    const [major, minor] = minimum.split('.');
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toContain(`Node.js ${major}.${minor} or newer`);
  });
});
