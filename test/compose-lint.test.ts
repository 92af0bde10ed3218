import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { DCLinter } from 'dclint';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { referenceConfig } from '../lib/config/load.js';
import { fixtureNames, loadFixture, renderTree, stripCoolifyKeys } from './support/render.js';

/*
 * Every compose file, both flavours, checked by the programs that will read it: dclint (which also
 * validates the compose schema) and the compose-spec JSON schema itself. Coolify keys are stripped
 * first, as Coolify does before handing the file to Docker.
 */

const require = createRequire(import.meta.url);
const composeSchema = JSON.parse(readFileSync(join(dirname(require.resolve('dclint/package.json')), 'schemas', 'compose.schema.json'), 'utf8')) as object;
// The spec names its draft-07 meta-schema by https URL, which Ajv does not know: skip meta-validation.
const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true, validateSchema: false });
addFormats(ajv);
const validateSchema = ajv.compile(composeSchema);
const linter = new DCLinter({ rules: {}, quiet: false, debug: false, exclude: [] });
const scratch = mkdtempSync(join(tmpdir(), 'platform-lint-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const configs = [
  { name: 'reference', load: referenceConfig },
  ...fixtureNames('valid').map((name) => ({ name, load: () => loadFixture('valid', name) })),
];

describe.each(configs)('$name', ({ name, load }) => {
  describe.each(['coolify', 'plain'] as const)('%s flavour', (flavor) => {
    const tree = renderTree(load(), flavor);
    it.each(tree.composeDirs())('%s passes the compose schema and dclint with zero problems', (dir) => {
      const doc = flavor === 'coolify' ? stripCoolifyKeys(tree.compose(dir)) : tree.compose(dir);
      const valid = validateSchema(doc);
      expect(validateSchema.errors ?? [], `${name} ${dir}`).toEqual([]);
      expect(valid).toBe(true);

      const file = join(scratch, `${name}-${flavor}-${dir.replace('/', '-')}.yaml`);
      // The plain file is linted exactly as written; the Coolify one as Coolify hands it to Docker.
      writeFileSync(file, flavor === 'plain' ? (tree.files.get(`${dir}/compose.yaml`) as string) : stringify(doc, { version: '1.1' }));
      const [result] = linter.lintFiles([file], false);
      const problems = (result?.messages ?? []).map((m) => `${m.type} ${m.rule}: ${m.message}`);
      expect(problems, `${name} ${dir}`).toEqual([]);
    });
  });
});
