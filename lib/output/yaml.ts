import { Document, stringify } from 'yaml';

/**
 * The options every rendered file is written with: YAML 1.1 (so the strings 1.1 readers take for
 * booleans, "no", "on", "yes", are quoted: restart: "no"), no line folding, no anchors, two-space
 * indent, double quotes where quoting is needed. The same object always gives the same bytes.
 */
const OPTIONS = { version: '1.1', lineWidth: 0, aliasDuplicateObjects: false, indent: 2, singleQuote: false } as const;

/**
 * YAML as every rendered file writes it. The bytes are exactly those of the `yaml` package's
 * `stringify(value, OPTIONS)`; only the cost differs. Building a `yaml` Document node tree for
 * every file was a third of synth's time for a thousand services and most of its garbage, so the
 * block structure of plain data (objects, arrays, strings, numbers, booleans, null) is laid out
 * here, and every scalar is rendered as the `yaml` package renders it, memoized per value (the
 * same names, images and ports recur across thousands of files; the caches live as long as the
 * process, which for the CLI is one synth). Anything this layout does not reproduce exactly (a
 * Date or other class instance, undefined in an array, -0, a key the package would quote for flow
 * characters or write as an explicit `? key`, a multi-line string it would double-quote) sends the
 * whole value through `stringify`, so the result never depends on which path ran.
 * test/yaml-output.test.ts holds the two to the same bytes, on fixed and on random documents.
 */
export function toYaml(value: unknown): string {
  if (value !== null && typeof value === 'object') {
    try {
      const lines: string[] = [];
      if (Array.isArray(value)) {
        if (value.length > 0) {
          emitSeq(value, '', lines);
          return lines.join('\n') + '\n';
        }
      } else if (isPlainObject(value)) {
        if (hasEntries(value)) {
          emitMap(value, '', lines);
          return lines.join('\n') + '\n';
        }
      }
    } catch (error) {
      if (error !== NOT_FAST) throw error;
    }
  }
  return stringify(value, OPTIONS);
}

/** Thrown inside the fast path when a value needs the `yaml` package's own layout. */
const NOT_FAST = Symbol('not on the fast path');

const INDENT_STEP = '  ';

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Whether a map has a key the package writes (it leaves out keys whose value is undefined). */
function hasEntries(map: Record<string, unknown>): boolean {
  for (const key in map) if (map[key] !== undefined) return true;
  return false;
}

/**
 * Lays out a map whose lines start at `indent`. `lines` ends with the text before the first key
 * when the map continues a line (`- key: ...`), which `first` then extends.
 */
function emitMap(map: Record<string, unknown>, indent: string, lines: string[], first = false): void {
  let continueLine = first;
  for (const key of Object.keys(map)) {
    const value = map[key];
    if (value === undefined) continue;
    const head = `${renderKey(key)}:`;
    if (continueLine) {
      lines[lines.length - 1] += head;
      continueLine = false;
    } else {
      lines.push(indent + head);
    }
    emitValue(value, indent, lines, ' ');
  }
}

/** Lays out a sequence whose `- ` items start at `indent` (the first may continue a line). */
function emitSeq(seq: unknown[], indent: string, lines: string[], first = false): void {
  let continueLine = first;
  for (const item of seq) {
    if (item === undefined) throw NOT_FAST;
    if (continueLine) {
      lines[lines.length - 1] += '-';
      continueLine = false;
    } else {
      lines.push(`${indent}-`);
    }
    emitValue(item, indent, lines, ' ', true);
  }
}

/**
 * Appends a value after the `key:` or `-` that ends the last line, which sits at `indent`.
 * A non-empty map under a key goes on the next lines one step in; under `- ` it starts on the
 * same line. A non-empty sequence goes one step in on the next lines under a key, on the same line
 * under `- `.
 */
function emitValue(value: unknown, indent: string, lines: string[], space: string, inSeq = false): void {
  if (value !== null && typeof value === 'object') {
    const list = Array.isArray(value) ? value : undefined;
    const map = list ? undefined : isPlainObject(value) ? value : undefined;
    if (!list && !map) throw NOT_FAST;
    if (list ? list.length === 0 : !hasEntries(map as Record<string, unknown>)) {
      lines[lines.length - 1] += `${space}${list ? '[]' : '{}'}`;
      return;
    }
    // Under `- ` the collection starts on the dash's line; after `key:` on the next one.
    if (inSeq) lines[lines.length - 1] += space;
    const inner = indent + INDENT_STEP;
    if (list) emitSeq(list, inner, lines, inSeq);
    else emitMap(map as Record<string, unknown>, inner, lines, inSeq);
    return;
  }
  const contentIndent = indent + INDENT_STEP;
  if (typeof value === 'string' && value.includes('\n')) {
    lines[lines.length - 1] += space + renderBlockScalar(value, contentIndent);
    return;
  }
  lines[lines.length - 1] += space + renderScalar(value);
}

/**
 * The package's own test for a one-line string it cannot write plain (yaml
 * dist/stringify/stringifyString.js, `plainString`): an indicator first, `: ` or ` #` inside, a
 * space or `:` last. A string that passes is still quoted when a tag of the YAML 1.1 schema other
 * than str would read it as its own type (`yes`, `~`, `0x1f`, `e5`, `12:30`, `2024-01-01`): the
 * package's own schema decides, through the tags' tests below. Control characters force double
 * quotes, and a line that could be a document marker (`---`, `...`, `%`) depends on where it
 * stands: both leave the plain answer to the package.
 */
const NOT_PLAIN = /^[\n\t ,[\]{}#&*!|>'"%@`]|^[?-]$|^[?-][ \t]|[\n:][ \t]|[ \t]\n|[\n\t ]#|[\n\t :]$/;
const FORCED_QUOTES_OR_MARKER = /[\x00-\x08\x0b-\x1f\x7f-\x9f\uD800-\uDFFF]|^(?:---|\.\.\.)/u;
const TYPED_SCALAR_TESTS = new Document(null, OPTIONS).schema.tags.flatMap((tag) =>
  tag.default && tag.tag !== 'tag:yaml.org,2002:str' && 'test' in tag && tag.test instanceof RegExp ? [tag.test] : [],
);

/** The package's rendering of a scalar, without building its document where the answer is known. */
function scalarText(value: null | string | number | boolean): string {
  if (
    typeof value === 'string' &&
    value !== '' &&
    !value.includes('\n') &&
    !NOT_PLAIN.test(value) &&
    !FORCED_QUOTES_OR_MARKER.test(value) &&
    !TYPED_SCALAR_TESTS.some((test) => test.test(value))
  )
    return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return stringify(value, OPTIONS).slice(0, -1);
}

const scalarCache = new Map<unknown, string>();
const keyCache = new Map<string, string>();
/** Multi-line strings as placed with their content at a given indentation (its length). */
const blockCache = new Map<number, Map<string, string>>();

/** A one-line scalar in value position, rendered by the `yaml` package with the file options. */
function renderScalar(value: unknown): string {
  // -0 and 0 share a Map key but not a rendering: check before the cache answers for 0.
  if (Object.is(value, -0)) throw NOT_FAST;
  const cached = scalarCache.get(value);
  if (cached !== undefined) return cached;
  const kind = typeof value;
  if (value !== null && kind !== 'string' && kind !== 'number' && kind !== 'boolean') throw NOT_FAST;
  const text = scalarText(value as null | string | number | boolean);
  if (text.includes('\n')) throw NOT_FAST;
  scalarCache.set(value, text);
  return text;
}

/**
 * A multi-line string after `key: ` or `- `, with its content lines at `contentIndent`: a block
 * scalar (`|-` and its lines). Its indentation indicator and the whitespace of its blank lines
 * depend on that indentation, so the package renders it at that very depth (under nested keys `k`)
 * and the wrapper is cut off. A string the package would double-quote over several lines instead
 * (it folds those with the indentation of the place) leaves the fast path.
 */
function renderBlockScalar(value: string, contentIndent: string): string {
  let atDepth = blockCache.get(contentIndent.length);
  if (atDepth === undefined) {
    atDepth = new Map();
    blockCache.set(contentIndent.length, atDepth);
  }
  const cached = atDepth.get(value);
  if (cached !== undefined) return cached;
  const literal = literalBlock(value, contentIndent);
  if (literal !== undefined) {
    atDepth.set(value, literal);
    return literal;
  }
  const depth = contentIndent.length / INDENT_STEP.length - 1;
  let wrapped: Record<string, unknown> = { k: value };
  for (let i = 0; i < depth; i++) wrapped = { k: wrapped };
  const text = stringify(wrapped, OPTIONS).slice(0, -1);
  let prefix = '';
  for (let i = 0; i < depth; i++) prefix += `${INDENT_STEP.repeat(i)}k:\n`;
  prefix += `${INDENT_STEP.repeat(depth)}k: `;
  const placed = text.slice(prefix.length);
  if (!text.startsWith(prefix) || !/^[|>]/.test(placed)) throw NOT_FAST;
  atDepth.set(value, placed);
  return placed;
}

/**
 * The package's literal block scalar, written here for the common shape (a config file's text):
 * no tab or control character, no line starting like a document marker, not starting with a space
 * or newline (those take an indentation indicator), and ending in a non-blank character (`|-`) or
 * in one newline after it (`|`). Blank lines carry no indentation, as the
 * package writes them (it indents after each run of newlines). Anything else: undefined, and the
 * package renders it.
 */
function literalBlock(value: string, contentIndent: string): string | undefined {
  // Tabs and control characters, and a line the package could take for a document marker.
  if (/[\x00-\x09\x0b-\x1f\x7f-\x9f\uD800-\uDFFF]/u.test(value) || /^(?:%|---|\.\.\.)/m.test(value)) return undefined;
  const clip = value.endsWith('\n');
  const body = clip ? value.slice(0, -1) : value;
  if (body === '' || /^[ \n]|[ \n]$/.test(body)) return undefined;
  return `|${clip ? '' : '-'}\n${contentIndent}${body.replace(/\n+/g, `$&${contentIndent}`)}`;
}

/**
 * A map key. The package writes a key as it writes the same string as a value, except that flow
 * characters and line breaks force quotes in a key and a key over 1024 characters becomes an
 * explicit `? key`: those keys leave the fast path.
 */
function renderKey(key: string): string {
  const cached = keyCache.get(key);
  if (cached !== undefined) return cached;
  if (key.length > 1000 || /[\n[\]{},]/.test(key)) throw NOT_FAST;
  const rendered = renderScalar(key);
  keyCache.set(key, rendered);
  return rendered;
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
