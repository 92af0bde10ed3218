import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROFILE_NAMES } from '../lib/config/profiles.js';
import { configSchema } from '../lib/config/schema.js';

/* The README is the front door: keep its reference tables in step with the code. */
const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');

describe('README', () => {
  it('documents every top-level key of platform.yaml', () => {
    for (const key of Object.keys(configSchema.shape)) expect(readme, key).toMatch(new RegExp(`^\\| \`${key}(\\.|\`)`, 'm'));
  });

  it('documents every key of apps.<name> in its own table', () => {
    const section = readme.split('### Your own apps (`apps.<name>`)')[1]?.split('\n## ')[0] ?? '';
    const apps = configSchema.shape.apps.unwrap().valueType;
    for (const key of Object.keys(apps.shape)) expect(section, key).toMatch(new RegExp(`^\\| (\`[a-zA-Z]+\`, )*\`${key}\``, 'm'));
  });

  it('lists every init profile', () => {
    for (const profile of PROFILE_NAMES) expect(readme, profile).toContain(`| \`${profile}\` |`);
  });

  it('starts with the two quick-start commands', () => {
    const quickStart = readme.split('## Quick start')[1]?.split('```')[1] ?? '';
    expect(quickStart).toContain('npm ci && npx platform synth');
    expect(quickStart).toContain('npm test');
  });
});
