import { withReferenceZones } from './zones.js';
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { checkConfig } from './checks.js';
import { ConfigError, type ConfigIssue, type ConfigSource } from './errors.js';
import { configSchema, type PlatformConfig } from './schema.js';

export interface LoadedConfig {
  readonly config: PlatformConfig;
  readonly source: ConfigSource;
}

/** Shown where a message would name a file, when no --config was given. */
export const EMBEDDED_REFERENCE = '<embedded reference platform>';

function zodIssues(issues: readonly z.core.$ZodIssue[]): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of issues) {
    const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: [...path, key], message: issue.message });
      continue;
    }
    if (issue.code === 'invalid_key') {
      const key = path[path.length - 1];
      const reason = issue.issues[0]?.message ?? 'is not allowed';
      out.push({ path, message: `"${String(key)}" is not a valid name: it ${reason}` });
      continue;
    }
    const input = (issue as { input?: unknown }).input;
    out.push({ path, message: issue.message, got: input === undefined ? 'missing' : 'value' });
  }
  return out;
}

/** Validate an already-parsed object: schema first, then the cross-field checks. */
export function validateConfig(data: unknown, source: ConfigSource): PlatformConfig {
  const parsed = configSchema.safeParse(withReferenceZones(data ?? {}), { reportInput: true });
  if (!parsed.success) throw new ConfigError(zodIssues(parsed.error.issues), source);
  const crossField = checkConfig(parsed.data);
  if (crossField.length > 0) throw new ConfigError(crossField, source);
  return parsed.data;
}

/** Parse platform.yaml text. Errors name the file, line, key path and bad value. */
export function parseConfig(text: string, file: string): LoadedConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const source: ConfigSource = { file, doc, lines };
  if (doc.errors.length > 0) {
    const messages = doc.errors.map((err: YAMLParseError) => {
      const pos = lines.linePos(err.pos[0]);
      return `${file}:${pos.line}:${pos.col}: invalid YAML: ${err.message.split('\n')[0]}`;
    });
    throw new ConfigError([], { file }).withMessage(messages.join('\n'));
  }
  const data: unknown = doc.toJS();
  if (data !== null && data !== undefined && (typeof data !== 'object' || Array.isArray(data))) {
    throw new ConfigError([{ path: [], message: 'the file must be a YAML mapping of settings (domain:, nodes:, ...)' }], source);
  }
  return { config: validateConfig(data, source), source };
}

export function loadConfigFile(file: string): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new ConfigError([], { file }).withMessage(`${file}: cannot read the config: ${reason}`);
  }
  return parseConfig(text, file);
}

/** The reference homelab of shared/REFERENCE.md: every default of the schema. */
export function referenceConfig(): LoadedConfig {
  const source: ConfigSource = { file: EMBEDDED_REFERENCE };
  return { config: validateConfig({}, source), source };
}
