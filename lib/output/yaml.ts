import { stringify } from 'yaml';

/**
 * YAML as every rendered file writes it: no line folding, no anchors, two-space indent, so the
 * same object always gives the same bytes.
 */
export function toYaml(value: unknown): string {
  // YAML 1.1 output quotes the strings 1.1 readers take for booleans ("no", "on", "yes"): restart: "no".
  return stringify(value, { version: '1.1', lineWidth: 0, aliasDuplicateObjects: false, indent: 2, singleQuote: false });
}

/**
 * What every generated file says of itself. It names no file: the config may be a platform.yaml
 * of any name or the embedded reference platform (the synth summary says which).
 */
export const GENERATED_BY = 'rendered by `platform synth` from the platform config. Edit the config, not this file.';

/** The first line of every generated file that takes `#` comments. */
export function generatedHeader(what: string, comment = '#'): string {
  return `${comment} ${what}: ${GENERATED_BY}\n`;
}
