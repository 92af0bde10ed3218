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

  it('.ci/run installs the real tools and runs the README test command', () => {
    const ci = read('.ci/run');
    const readme = read('README.md');
    const testCommand = /^(npm test)\s+# the whole test suite$/m.exec(readme)?.[1];
    expect(testCommand).toBe('npm test');
    expect(ci).toMatch(/^npm test$/m);
    expect(ci).toMatch(/apt-get install .*\bcaddy\b.*\bprometheus\b/);
    expect(ci).toContain('export CI=true');
  });
});
