import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { validateWorkflow } from '@action-validator/core';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

describe('the GitHub test workflow', () => {
  const workflow = read('.github/workflows/test.yml');

  it('is a valid workflow (the schema GitHub publishes)', () => {
    expect(validateWorkflow(workflow).errors).toEqual([]);
  });

  it('runs on every push and pull request, through the same entry point as CI', () => {
    expect(workflow).toMatch(/^on:\n {2}push:\n {2}pull_request:\n/m);
    expect(workflow).toContain('run: bash .ci/run');
  });

  it('runs on the oldest Node the package supports (engines) and on the newest LTS', () => {
    const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
    const oldest = Number(/^>=(\d+)\./.exec(engines)?.[1]);
    const matrix = /^ {8}node: \[([\d, ]+)\]$/m.exec(workflow)?.[1]?.split(',').map(Number);
    expect(matrix).toEqual([oldest, 24]);
    expect(workflow).toContain('node-version: ${{ matrix.node }}');
  });

  it(".ci/run installs the real tools and runs the README's two commands in order: the quick start, then the tests", () => {
    const ci = read('.ci/run');
    const readme = read('README.md');
    const quickStart = /^npm ci && (npx platform synth)\s+# install, then render/m.exec(readme)?.[1];
    const testCommand = /^(npm test)\s+# the whole test suite$/m.exec(readme)?.[1];
    expect([quickStart, testCommand]).toEqual(['npx platform synth', 'npm test']);
    const lines = ci.split('\n');
    expect(lines.indexOf('npm ci --no-audit --no-fund')).toBeGreaterThan(-1);
    expect(lines.indexOf('npm ci --no-audit --no-fund')).toBeLessThan(lines.indexOf('npx platform synth'));
    expect(lines.indexOf('npx platform synth')).toBeLessThan(lines.indexOf('npm test'));
    expect(ci).toMatch(/apt-get install .*\bcaddy\b.*\bprometheus\b/);
    expect(ci).toContain('export CI=true');
  });
});
