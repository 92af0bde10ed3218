import { isMap, isScalar, isSeq, LineCounter, type Document, type Node as YamlNode } from 'yaml';

export type ConfigPath = readonly (string | number)[];

/** One thing wrong with the config, pointing at the key that is wrong. */
export interface ConfigIssue {
  readonly path: ConfigPath;
  /** What is allowed, phrased to follow "got <value>;", e.g. "must be one of public, tailnet, lan". */
  readonly message: string;
  /**
   * What to say before the message: `value` shows the bad value found at the path ("got 5000;"),
   * `missing` says the key is absent. Cross-field checks put the values into the message themselves.
   */
  readonly got?: 'value' | 'missing';
  /** The `platform validate` rule this check belongs to. @default 'config' (the schema and its cross-field checks) */
  readonly rule?: string;
}

/** The parsed YAML source, kept so issues can name the file and line. */
export interface ConfigSource {
  readonly file: string;
  readonly doc?: Document.Parsed;
  readonly lines?: LineCounter;
}

/** A config the platform cannot build. Its message is what the user sees; exit code 2. */
export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];
  readonly source: ConfigSource;
  constructor(issues: readonly ConfigIssue[], source: ConfigSource) {
    super(formatIssues(issues, source));
    this.name = 'ConfigError';
    this.issues = issues;
    this.source = source;
  }

  /** For errors that are not about a key (unreadable file, YAML syntax): the message as given. */
  withMessage(message: string): this {
    this.message = message;
    return this;
  }
}

/**
 * The command line asked for something that cannot be done (an output path that is a file, a
 * folder that does not exist, a read-only or full disk). One line, exit code 2, nothing written.
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Thrown by constructs and checks before the source is known; the loader turns it into a ConfigError. */
export class ConfigIssues extends Error {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[]) {
    super(issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join('\n'));
    this.name = 'ConfigIssues';
    this.issues = issues;
  }
}

/** A key as it is shown in a path: plain names as they are, anything else quoted (one line, at most 60 characters). */
export function formatKey(key: string): string {
  if (/^[A-Za-z0-9_-]+$/.test(key)) return key;
  const quoted = JSON.stringify(key);
  return quoted.length > 60 ? `${quoted.slice(0, 56)}..."` : quoted;
}

export function formatPath(path: ConfigPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (!/^[A-Za-z0-9_-]+$/.test(part)) out += `[${formatKey(part)}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out === '' ? '(top level)' : out;
}

function formatValue(value: unknown): string {
  if (value === undefined) return '';
  const text = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** The YAML node at a path, or the deepest existing ancestor when the key is missing. */
function nodeAt(doc: Document.Parsed, path: ConfigPath): { node: YamlNode | undefined; exact: boolean; value: unknown } {
  let current: unknown = doc.contents;
  let keyNode: YamlNode | undefined;
  for (const part of path) {
    if (isMap(current)) {
      const pair = current.items.find((p) => isScalar(p.key) && p.key.value === part);
      if (!pair) return { node: (keyNode ?? current) as YamlNode, exact: false, value: undefined };
      keyNode = pair.key as YamlNode;
      current = pair.value;
    } else if (isSeq(current) && typeof part === 'number' && current.items[part] !== undefined) {
      current = current.items[part];
      keyNode = current as YamlNode;
    } else {
      return { node: (keyNode ?? current) as YamlNode | undefined, exact: false, value: undefined };
    }
  }
  const valueNode = current as YamlNode | null;
  const value = valueNode && typeof (valueNode as { toJSON?: unknown }).toJSON === 'function' ? (valueNode as { toJSON(): unknown }).toJSON() : valueNode ?? undefined;
  return { node: keyNode ?? (valueNode ?? undefined), exact: true, value };
}

/** Line and column (1-based) of the key at `path`, or of its deepest existing ancestor. */
export function locate(path: ConfigPath, source: ConfigSource): { line: number; column: number } | undefined {
  if (!source.doc || !source.lines) return undefined;
  const offset = nodeAt(source.doc, path).node?.range?.[0];
  if (offset === undefined) return undefined;
  const pos = source.lines.linePos(offset);
  return { line: pos.line, column: pos.col };
}

/** One issue as the user reads it: where, and what (with the bad value when it is at the path). */
export function describeIssue(issue: ConfigIssue, source: ConfigSource): { location?: { line: number; column: number }; detail: string } {
  const location = locate(issue.path, source);
  const found = source.doc ? nodeAt(source.doc, issue.path) : undefined;
  let detail = issue.message;
  if (issue.got === 'missing') detail = `missing; ${issue.message}`;
  else if (issue.got === 'value' && found?.exact && found.value !== undefined) detail = `got ${formatValue(found.value)}; ${issue.message}`;
  return { location, detail };
}

/**
 * `platform.yaml:14:11: zones.gpu.vlan: got 5000; must be a whole number from 1 to 4094`,
 * one line per issue, in file order.
 */
export function formatIssues(issues: readonly ConfigIssue[], source: ConfigSource): string {
  const rendered = issues.map((issue) => {
    const { location, detail } = describeIssue(issue, source);
    const where = location ? `${source.file}:${location.line}:${location.column}` : source.file;
    return { line: location?.line ?? Number.MAX_SAFE_INTEGER, text: `${where}: ${formatPath(issue.path)}: ${detail}` };
  });
  rendered.sort((a, b) => a.line - b.line);
  const unique = [...new Set(rendered.map((r) => r.text))];
  return unique.join('\n');
}
