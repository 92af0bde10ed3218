import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { DCLinter } from 'dclint';
import { afterAll, describe, expect, it } from 'vitest';
import { referenceConfig } from '../lib/config/load.js';
import { fixtureNames, loadFixture, renderTree } from './support/render.js';

/*
 * Every compose file, both flavours, checked by the programs that will read it: dclint (which also
 * validates the compose schema) and the compose-spec JSON schema itself, exactly as written: the
 * Coolify flavour is deployed raw, so Docker reads the file as it is.
 */

const require = createRequire(import.meta.url);
const composeSchema = JSON.parse(readFileSync(join(dirname(require.resolve('dclint/package.json')), 'schemas', 'compose.schema.json'), 'utf8')) as object;
// The spec names its draft-07 meta-schema by https URL, which Ajv does not know: skip meta-validation.
const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true, validateSchema: false });
addFormats(ajv);
const validateSchema = ajv.compile(composeSchema);
const linter = new DCLinter({ rules: {}, quiet: false, debug: false, exclude: [] });
const scratch = mkdtempSync(join(tmpdir(), 'platform-lint-'));
/**
 * dclint's findings by file content: most stacks render byte-identical files in several configs,
 * and dclint (about a second per file on two cores) reads only the content.
 */
const lintedBefore = new Map<string, string[]>();
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const configs = [
  { name: 'reference', load: referenceConfig },
  ...fixtureNames('valid').map((name) => ({ name, load: () => loadFixture('valid', name) })),
];

describe.each(configs)('$name', ({ name, load }) => {
  describe.each(['coolify', 'plain'] as const)('%s flavour', (flavor) => {
    const tree = renderTree(load(), flavor);
    it.each(tree.composeDirs())('%s passes the compose schema and dclint with zero problems', (dir) => {
      const doc = tree.compose(dir);
      const valid = validateSchema(doc);
      expect(validateSchema.errors ?? [], `${name} ${dir}`).toEqual([]);
      expect(valid).toBe(true);

      const content = tree.files.get(`${dir}/compose.yaml`) as string;
      let problems = lintedBefore.get(content);
      if (!problems) {
        const file = join(scratch, `${name}-${flavor}-${dir.replace('/', '-')}.yaml`);
        writeFileSync(file, content);
        const [result] = linter.lintFiles([file], false);
        problems = (result?.messages ?? []).map((m) => `${m.type} ${m.rule}: ${m.message}`);
        lintedBefore.set(content, problems);
      }
      expect(problems, `${name} ${dir}`).toEqual([]);
    });
  });
});
