/**
 * Docker Compose's variable interpolation and .env parsing, ported line by line from
 * compose-spec/compose-go (commit e70e961c3a3acebf0800b882f1afb3dbf1fb74a2, v2.13.0+6, the library
 * `docker compose` v2 is built on):
 *
 * - template/template.go: the `$`-pattern (lines 29-50), SubstituteWithOptions (121-155),
 *   DefaultReplacementAppliedFunc (162-213), getSubstitutionFunctionForTemplate (228-253),
 *   getFirstBraceClosingIndex (255-270) and the operators `:?` `?` `:-` `-` `:+` `+` (277-360).
 * - dotenv/parser.go: how a .env line becomes a value (33-72, 96-214): unquoted and double-quoted
 *   values are interpolated, single-quoted ones are taken literally.
 *
 * No npm package implements these rules (the `dotenv`/`dotenv-expand` packages quote and expand
 * differently), so the tests carry this port; each function names the Go function it follows.
 */

/** template.go MissingRequiredError: `${NAME:?}` with NAME unset or empty. Compose refuses to start. */
export class MissingRequiredError extends Error {
  constructor(
    readonly variable: string,
    readonly reason: string,
  ) {
    super(reason ? `required variable ${variable} is missing a value: ${reason}` : `required variable ${variable} is missing a value`);
  }
}

export class InvalidTemplateError extends Error {
  constructor(readonly template: string) {
    super(`Invalid template: ${JSON.stringify(template)}`);
  }
}

export type Mapping = (name: string) => string | undefined;
type SubstituteFunc = (substitution: string, mapping: Mapping) => { value: string; applied: boolean };

// template.go lines 29-50: `\$(?i:(?P<escaped>\$)|(?P<named>[_a-z][_a-z0-9]*)|{(?:(?P<braced>[_a-z][_a-z0-9]*(?::?[-+?](.*))?)}|(?P<invalid>)))`
const PATTERN_SOURCE = String.raw`\$(?:(\$)|([_a-z][_a-z0-9]*)|\{(?:([_a-z][_a-z0-9]*(?::?[-+?](.*))?)\}|()))`;
const GROUP = { escaped: 1, named: 2, braced: 3 } as const;

/** template.go partition (374-380). */
function partition(s: string, sep: string): [string, string] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + sep.length)];
}

function withDefaultWhenAbsence(substitution: string, mapping: Mapping, emptyOrUnset: boolean) {
  const sep = emptyOrUnset ? ':-' : '-';
  if (!substitution.includes(sep)) return { value: '', applied: false };
  const [name, defaultValue] = partition(substitution, sep);
  const value = mapping(name);
  if (value === undefined || (emptyOrUnset && value === '')) return { value: substitute(defaultValue, mapping), applied: true };
  return { value, applied: true };
}

function withDefaultWhenPresence(substitution: string, mapping: Mapping, notEmpty: boolean) {
  const sep = notEmpty ? ':+' : '+';
  if (!substitution.includes(sep)) return { value: '', applied: false };
  const [name, defaultValue] = partition(substitution, sep);
  const value = mapping(name);
  if (value !== undefined && (!notEmpty || value !== '')) return { value: substitute(defaultValue, mapping), applied: true };
  return { value: value ?? '', applied: true };
}

function withRequired(substitution: string, mapping: Mapping, sep: string, valid: (v: string) => boolean) {
  if (!substitution.includes(sep)) return { value: '', applied: false };
  const [name, errorMessage] = partition(substitution, sep);
  const value = mapping(name);
  if (value === undefined || !valid(value)) throw new MissingRequiredError(name, substitute(errorMessage, mapping));
  return { value, applied: true };
}

const OPERATORS: readonly [string, SubstituteFunc][] = [
  [':?', (s, m) => withRequired(s, m, ':?', (v) => v !== '')],
  ['?', (s, m) => withRequired(s, m, '?', () => true)],
  [':-', (s, m) => withDefaultWhenAbsence(s, m, true)],
  ['-', (s, m) => withDefaultWhenAbsence(s, m, false)],
  [':+', (s, m) => withDefaultWhenPresence(s, m, true)],
  ['+', (s, m) => withDefaultWhenPresence(s, m, false)],
];

/** template.go getSubstitutionFunctionForTemplate (228-253): the operator that appears first in the match. */
function substitutionFunctionFor(template: string): SubstituteFunc {
  let best: [number, SubstituteFunc] | undefined;
  for (const [op, fn] of OPERATORS) {
    const index = template.indexOf(op);
    if (index >= 0 && (best === undefined || index < best[0])) best = [index, fn];
  }
  return best?.[1] ?? (OPERATORS[0] as [string, SubstituteFunc])[1];
}

/** template.go getFirstBraceClosingIndex (255-270). */
function firstBraceClosingIndex(s: string): number {
  let open = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '}') {
      open--;
      if (open === 0) return i;
    }
    if (s[i] === '{') {
      open++;
      i++;
    }
  }
  return -1;
}

/** template.go DefaultReplacementAppliedFunc (162-213), for one match of the pattern. */
function replace(match: string, mapping: Mapping): string {
  const subsFunc = substitutionFunctionFor(match);
  let substring = match;
  let rest = '';
  const closing = firstBraceClosingIndex(substring);
  if (closing > -1) {
    rest = substring.slice(closing + 1);
    substring = substring.slice(0, closing + 1);
  }
  const groups = new RegExp(PATTERN_SOURCE, 'i').exec(substring) ?? [];
  const escaped = groups[GROUP.escaped];
  if (escaped) return escaped;
  let substitution = groups[GROUP.named] ?? '';
  let braced = false;
  if (substitution === '') {
    substitution = groups[GROUP.braced] ?? '';
    braced = true;
  }
  if (substitution === '') throw new InvalidTemplateError(match);
  if (braced) {
    const { value, applied } = subsFunc(substitution, mapping);
    if (applied) return value + substitute(rest, mapping);
  }
  return mapping(substitution) ?? '';
}

/** template.go Substitute / SubstituteWithOptions (121-155, 272-275): every match replaced, the first error thrown. */
export function substitute(template: string, mapping: Mapping): string {
  let error: Error | undefined;
  const result = template.replace(new RegExp(PATTERN_SOURCE, 'gi'), (match) => {
    try {
      return replace(match, mapping);
    } catch (e) {
      error ??= e instanceof InvalidTemplateError && e.template === '' ? new InvalidTemplateError(template) : (e as Error);
      return '';
    }
  });
  if (error) throw error;
  return result;
}

/**
 * compose-go interpolation: every string value of the model is substituted (keys are not).
 * Throws MissingRequiredError as `docker compose` does before it creates anything.
 */
export function interpolate<T>(value: T, mapping: Mapping): T {
  if (typeof value === 'string') return substitute(value, mapping) as T;
  if (Array.isArray(value)) return value.map((v) => interpolate(v, mapping)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, mapping)])) as T;
  }
  return value;
}

// dotenv/parser.go line 19
const ESCAPE_SEQUENCE = /(\\(?:[abcfnrtv$"\\]|0\d{0,3}))/g;
const GO_ESCAPES: Record<string, string> = { a: '\x07', b: '\b', c: '\\c', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '"': '"', '\\': '\\' };

/** dotenv/parser.go expandEscapes (216-246). */
function expandEscapes(value: string): string {
  return value.replace(ESCAPE_SEQUENCE, (match) => {
    if (match === '\\$') return '$$';
    if (match.startsWith('\\0')) return String.fromCharCode(parseInt(match.slice(2) || '0', 8));
    return GO_ESCAPES[match.slice(1)] ?? match;
  });
}

const isSpace = (c: string) => ['\t', '\v', '\f', '\r', ' ', '\u0085', '\u00a0'].includes(c);

/**
 * dotenv/parser.go parse (33-72) with locateKeyName (96-147) and extractVarValue (150-214): the
 * variables of a .env file as Compose reads them (`--env-file`), each value expanded against the
 * lines above it.
 */
export function parseDotenv(src: string): Map<string, string> {
  const out = new Map<string, string>();
  const lookup: Mapping = (k) => out.get(k);
  let cut = src;
  for (;;) {
    // getStatementStart: skip blanks and comment lines
    cut = cut.replace(/^\s+/, '');
    while (cut.startsWith('#')) {
      const nl = cut.indexOf('\n');
      cut = nl < 0 ? '' : cut.slice(nl).replace(/^\s+/, '');
    }
    if (cut === '') break;
    if (/^export\s+/.test(cut)) cut = cut.replace(/^export/, '').replace(/^[\t\v\f\r \u0085\u00a0]+/, '');
    let offset = -1;
    let inherited = false;
    for (let i = 0; i < cut.length; i++) {
      const c = cut[i] as string;
      if (isSpace(c)) continue;
      if (c === '=' || c === ':' || c === '\n') {
        offset = i;
        inherited = c === '\n';
        break;
      }
      if (!/[A-Za-z0-9_.\-[\]]/u.test(c)) throw new Error(`unexpected character ${JSON.stringify(c)} in variable name ${JSON.stringify(cut.split('\n')[0])}`);
    }
    if (offset < 0) throw new Error('unterminated variable name');
    const key = cut.slice(0, offset).trimEnd();
    cut = cut.slice(offset + 1).replace(/^[\t\v\f\r \u0085\u00a0]+/, '');
    if (inherited) continue;
    const quote = cut[0];
    if (quote !== '"' && quote !== "'") {
      const nl = cut.indexOf('\n');
      let value = nl < 0 ? cut : cut.slice(0, nl);
      cut = nl < 0 ? '' : cut.slice(nl + 1);
      const comment = value.indexOf(' #');
      if (comment >= 0) value = value.slice(0, comment);
      out.set(key, substitute(value.trimEnd(), lookup));
      continue;
    }
    let previousIsEscape = false;
    let chars = '';
    let end = -1;
    for (let i = 1; i < cut.length; i++) {
      const c = cut[i] as string;
      if (c !== quote) {
        if (!previousIsEscape && c === '\\') {
          previousIsEscape = true;
          continue;
        }
        if (previousIsEscape) {
          previousIsEscape = false;
          chars += '\\';
        }
        chars += c;
        continue;
      }
      if (previousIsEscape) {
        previousIsEscape = false;
        chars += c;
        continue;
      }
      end = i;
      break;
    }
    if (end < 0) throw new Error(`unterminated quoted value ${cut.split('\n')[0]}`);
    out.set(key, quote === '"' ? substitute(expandEscapes(chars), lookup) : chars);
    cut = cut.slice(end + 1);
  }
  return out;
}
