import type { Plugin } from 'vite';

/**
 * dclint 3.1.0 parses a file's text again in every rule it runs: each rule's `check` starts with
 * `parseDocument(context.sourceCode)` (dist/index.esm.js, the rules' `check(e){... M(e.sourceCode)`),
 * about a dozen parses of the same text per file, most of compose-lint.test.ts's time. The rules only
 * read the document (`get`, `has`, `items`), so one parse per text serves them all: this plugin
 * gives dclint's `import ... from 'yaml'`, and only dclint's, a `yaml` whose parseDocument returns
 * the document it made before for the same text and options. Needs dclint inlined
 * (`server.deps.inline`) so that vite resolves its imports.
 */
export function dclintParseOnce(): Plugin {
  const id = '\0dclint-yaml-parse-once';
  return {
    name: 'dclint-yaml-parse-once',
    enforce: 'pre',
    resolveId(source, importer) {
      if (source === 'yaml' && importer !== undefined && /[\\/]node_modules[\\/]dclint[\\/]/.test(importer)) return id;
      return undefined;
    },
    load(loading) {
      if (loading !== id) return undefined;
      return [
        "import { parseDocument as parseOnce } from 'yaml';",
        "export * from 'yaml';",
        'const documents = new Map();',
        'export function parseDocument(source, options) {',
        '  const key = `${JSON.stringify(options ?? null)}\\0${source}`;',
        '  let document = documents.get(key);',
        '  if (document === undefined) documents.set(key, (document = parseOnce(source, options)));',
        '  return document;',
        '}',
      ].join('\n');
    },
  };
}
