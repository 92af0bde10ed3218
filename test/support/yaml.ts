import { CORE_SCHEMA, load, loadAll } from 'js-yaml';

/**
 * Rendered YAML read back as data, the way the tests read what the platform wrote.
 *
 * js-yaml rather than the `yaml` package the platform itself uses: a second, independent parser
 * checks the emitter (lib/output/yaml.ts), and it reads our files about three times quicker
 * (the reference's 190 YAML files: 210 against 590 CPU-ms on a first read, 30 against 160 once
 * warm), which is much of the suite's parsing. Its options match what the consumers and the
 * `yaml` package read: the YAML 1.2 core schema (no timestamps, no `<<` merges, `yes` is a
 * string), and a key twice in one mapping is an error, not a silent overwrite.
 */
const OPTIONS = { schema: CORE_SCHEMA, json: false } as const;

// Tests read deep into parsed documents: a loose type keeps the assertions readable, as the `yaml`
// package's own `parse` does.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Parsed = any;

/** The one document of `text` (undefined for an empty file). */
export function readYaml(text: string): Parsed {
  return load(text, OPTIONS);
}

/** Every document of `text`, in order (`---`-separated, as Kubernetes manifests are). */
export function readYamlAll(text: string): Parsed[] {
  return loadAll(text, undefined, OPTIONS);
}
