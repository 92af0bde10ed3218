import { withReferenceZones } from './zones.js';
import { closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { LineCounter, parseDocument, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { checkConfig } from './checks.js';
import { ConfigError, formatKey, type ConfigIssue, type ConfigSource } from './errors.js';
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
      const shown = formatKey(String(key));
      out.push({ path, message: `${shown.startsWith('"') ? shown : `"${shown}"`} is not a valid name: it ${reason}` });
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
  let data: unknown;
  try {
    // yaml refuses documents whose aliases expand too far (a "billion laughs" bomb) with a ReferenceError.
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    throw new ConfigError([], { file }).withMessage(`${file}: invalid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (data !== null && data !== undefined && (typeof data !== 'object' || Array.isArray(data))) {
    throw new ConfigError([{ path: [], message: 'the file must be a YAML mapping of settings (domain:, nodes:, ...)' }], source);
  }
  return { config: validateConfig(data, source), source };
}

/** platform.yaml is a few kilobytes; anything past this is a mistake or an attack, refused before parsing. */
export const MAX_CONFIG_BYTES = 1024 * 1024;
/** Alias expansions allowed while turning the YAML into data (yaml's own default). */
const MAX_ALIAS_COUNT = 100;

const READ_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a folder',
  ENOTDIR: 'a part of the path is not a folder',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'the name is too long',
  EIO: 'input/output error',
};

/**
 * Read a config file safely: only a regular file (a FIFO would block, /dev/zero never ends), at
 * most MAX_CONFIG_BYTES, opened non-blocking so nothing waits on a writer. `file` is the name errors
 * show; `path` where it is read (the same unless the caller resolves it from another folder).
 */
export function readConfigText(file: string, path: string = file): string {
  const refuse = (reason: string) => new ConfigError([], { file }).withMessage(`${file}: cannot read the config: ${reason}`);
  const osReason = (err: unknown) => {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    return READ_ERRORS[code] ?? `${code || 'error'}: ${(err as Error).message.split('\n')[0]}`;
  };
  let fd: number;
  try {
    if (!statSync(path).isFile()) throw refuse('not a regular file');
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw refuse(osReason(err));
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw refuse('not a regular file');
    if (stat.size > MAX_CONFIG_BYTES) throw refuse(`${stat.size} bytes; a platform.yaml is at most ${MAX_CONFIG_BYTES} bytes`);
    // Room for the size fstat gave and one byte more, grown if the file grows while it is read, up
    // to one byte over the limit (that byte read means too large). Not the limit's 1 MiB up front:
    // zeroing and faulting it in cost more than reading a config.
    let buffer = Buffer.allocUnsafe(Math.min(stat.size, MAX_CONFIG_BYTES) + 1);
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        const larger = Buffer.allocUnsafe(Math.min(buffer.length * 2, MAX_CONFIG_BYTES + 1));
        buffer.copy(larger, 0, 0, length);
        buffer = larger;
      }
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
      if (length > MAX_CONFIG_BYTES) throw refuse(`more than ${MAX_CONFIG_BYTES} bytes; a platform.yaml is at most ${MAX_CONFIG_BYTES} bytes`);
    }
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(buffer.subarray(0, length));
    } catch {
      throw refuse('not UTF-8 text');
    }
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw refuse(osReason(err));
  } finally {
    closeSync(fd);
  }
}

export function loadConfigFile(file: string): LoadedConfig {
  return parseConfig(readConfigText(file), file);
}

/** The reference homelab (a 16-core server plus a GPU node with one RTX 4090): every default of the schema. */
export function referenceConfig(): LoadedConfig {
  const source: ConfigSource = { file: EMBEDDED_REFERENCE };
  return { config: validateConfig({}, source), source };
}
