import { DCLinter } from 'dclint';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { referenceConfig } from '../lib/config/load.js';
import { composeSchemaValidator } from './support/compose-schema.js';
import { fixtureNames, loadFixture, renderTree } from './support/render.js';
import { readYaml } from './support/yaml.js';

/*
 * Every compose file, both flavours, checked by the programs that will read it: dclint (which also
 * validates the compose schema) and the compose-spec JSON schema itself, exactly as written: the
 * Coolify flavour is deployed raw, so Docker reads the file as it is.
 */

const validateSchema = composeSchemaValidator();
const linter = new DCLinter({ rules: {}, quiet: false, debug: false, exclude: [] });

const configs = [
  { name: 'reference', load: referenceConfig },
  ...fixtureNames('valid').map((name) => ({ name, load: () => loadFixture('valid', name) })),
];
const rendered = configs.flatMap(({ name, load }) => (['coolify', 'plain'] as const).map((flavor) => ({ name, flavor, tree: renderTree(load(), flavor) })));

/**
 * dclint's rules on a file. dclint's lintFiles also compiles the compose schema anew for every file
 * (most of its cost: about a second a file on two busy cores); the schema check is the one above,
 * with the schema file dclint ships, compiled once. So each file goes straight to dclint's rule
 * runner, with the context lintFiles would build (the path, the YAML read with merge keys, the text).
 */
type LintContext = { path: string; content: unknown; sourceCode: string };
const runRules = (linter as unknown as { lintContent: (context: LintContext) => { type: string; rule: string; message: string }[] }).lintContent.bind(linter);
/** dclint's findings by file content: most stacks render byte-identical files in several configs. */
const findings = new Map<string, string[]>();
function lint(path: string, sourceCode: string): string[] {
  let problems = findings.get(sourceCode);
  if (!problems) {
    const content = parseDocument(sourceCode, { merge: true }).toJS() as unknown;
    problems = runRules({ path, content, sourceCode }).map((m) => `${m.type} ${m.rule}: ${m.message}`);
    findings.set(sourceCode, problems);
  }
  return problems;
}

it('dclint still runs its rules through lintContent, and they find what they should', () => {
  expect(typeof runRules).toBe('function');
  const problems = lint('bad.yaml', 'services:\n  b:\n    image: nginx:latest\n  a:\n    image: nginx:1.27.0\n');
  expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(/^error service-image-require-explicit-tag: /), expect.stringMatching(/services-alphabetical-order: /)]));
});

/** The schema's verdict by file content, as for dclint's findings. */
const verdicts = new Map<string, { valid: boolean; errors: unknown[] }>();
function schemaCheck(sourceCode: string): { valid: boolean; errors: unknown[] } {
  let verdict = verdicts.get(sourceCode);
  if (!verdict) {
    const valid = validateSchema(readYaml(sourceCode)) as boolean;
    verdict = { valid, errors: validateSchema.errors ?? [] };
    verdicts.set(sourceCode, verdict);
  }
  return verdict;
}

describe.each(rendered)('$name $flavor flavour', ({ name, tree }) => {
  it.each(tree.composeDirs())('%s passes the compose schema and dclint with zero problems', (dir) => {
    const text = tree.files.get(`${dir}/compose.yaml`) as string;
    const { valid, errors } = schemaCheck(text);
    expect(errors, `${name} ${dir}`).toEqual([]);
    expect(valid).toBe(true);
    expect(lint(`${dir}/compose.yaml`, text), `${name} ${dir}`).toEqual([]);
  });
});
