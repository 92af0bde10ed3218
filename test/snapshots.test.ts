import { describe, expect, it } from 'vitest';
import { referenceConfig } from '../lib/config/load.js';
import { render, renderK3s } from '../lib/synth.js';
import { fixtureNames, loadFixture } from './support/render.js';

/*
 * The whole output, pinned: one file per configuration and flavour under __snapshots__/, each
 * rendered file behind a `==> path <==` line. Read a diff here as you would a PR.
 */

function serialize(files: { path: string; content: string; mode?: number }[]): string {
  return [...files]
    .sort((a, b) => a.path.localeCompare(b.path, 'en'))
    .map((f) => `==> ${f.path}${f.mode ? ` (mode ${f.mode.toString(8)})` : ''} <==\n${f.content}`)
    .join('\n');
}

const configs = [
  { name: 'reference', load: referenceConfig },
  ...fixtureNames('valid').map((name) => ({ name, load: () => loadFixture('valid', name) })),
];

describe('compose output', () => {
  it.each(configs)('$name (coolify)', async ({ name, load }) => {
    await expect(serialize(render(load(), 'coolify').files)).toMatchFileSnapshot(`__snapshots__/compose/${name}.coolify.txt`);
  });

  it('reference (plain)', async () => {
    await expect(serialize(render(referenceConfig(), 'plain').files)).toMatchFileSnapshot('__snapshots__/compose/reference.plain.txt');
  });
});

describe('k3s output', () => {
  it.each(configs)('$name', async ({ name, load }) => {
    const { output } = await renderK3s(load());
    await expect(serialize([...output.files])).toMatchFileSnapshot(`__snapshots__/k3s/${name}.txt`);
  });
});
