import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

let compiled: ValidateFunction | undefined;

/**
 * The compose-spec JSON schema (the copy dclint ships), compiled once per vitest worker: compiling
 * it costs about half a second of CPU, and the files of a worker share this module (isolate: false).
 * A validator keeps the errors of its last call only, which a test reads right after its own call.
 */
export function composeSchemaValidator(): ValidateFunction {
  if (!compiled) {
    const require = createRequire(import.meta.url);
    const schema = JSON.parse(readFileSync(join(dirname(require.resolve('dclint/package.json')), 'schemas', 'compose.schema.json'), 'utf8')) as object;
    // The spec names its draft-07 meta-schema by https URL, which Ajv does not know: skip meta-validation.
    const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true, validateSchema: false });
    addFormats.default(ajv);
    compiled = ajv.compile(schema);
  }
  return compiled;
}
