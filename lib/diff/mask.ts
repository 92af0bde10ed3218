/*
 * Secret-looking values never reach a diff: a PR comment is public to everyone who can read the
 * repository. References (`${NAME:?}`, `$(NAME)`, secretKeyRef) stay visible: they are names, and
 * a changed reference is exactly what a reviewer must see.
 */

export const MASK = '***';

/** Keys whose values are credentials. */
const SECRET_KEY = /(pass(word|wd)?|secret|token|api[_-]?key|private[_-]?key|credential|auth[_-]?hash|[_-]key$)/i;
/** Values that are credentials whatever their key. */
const SECRET_VALUE = [
  /^sk-[A-Za-z0-9_-]{12,}/, // OpenAI/LiteLLM-style keys
  /^\$2[aby]\$\d\d\$/, // bcrypt hashes
  /^(ghp|gho|ghs|github_pat|glpat)[-_][A-Za-z0-9_]{16,}/, // GitHub/GitLab tokens
  /^hf_[A-Za-z0-9]{20,}/, // Hugging Face tokens
  /^eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\./, // JWTs
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
];
/** A value that only names a secret. */
const REFERENCE = /^(\$\{[A-Za-z_][A-Za-z0-9_]*(:?[?-][^}]*)?\}|\$\([A-Za-z_][A-Za-z0-9_]*\))$/;

function secretValue(value: string): boolean {
  return SECRET_VALUE.some((p) => p.test(value.trim()));
}

function maskString(key: string | undefined, value: string): string {
  if (REFERENCE.test(value.trim())) return value;
  if (secretValue(value)) return MASK;
  if (key !== undefined && SECRET_KEY.test(key) && value !== '') return MASK;
  return value;
}

/** A copy of a parsed object with secret-looking values replaced. */
export function maskObject(value: unknown, key?: string, kind?: string): unknown {
  if (typeof value === 'string') return maskString(key, value);
  if (Array.isArray(value)) return value.map((v) => maskObject(v, key, kind));
  if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    // A Kubernetes Secret: every value of data/stringData is secret.
    if (kind === 'Secret' && (key === 'data' || key === 'stringData')) {
      return Object.fromEntries(Object.keys(obj).map((k) => [k, MASK]));
    }
    // An env entry `{name, value}`: the name says whether the value is secret.
    const envName = typeof obj.name === 'string' && 'value' in obj ? obj.name : undefined;
    const objKind = typeof obj.kind === 'string' ? obj.kind : kind;
    return Object.fromEntries(
      Object.entries(obj).map(([k, v]) => [k, k === 'value' && envName !== undefined ? maskObject(v, envName, objKind) : maskObject(v, k, objKind)]),
    );
  }
  return value;
}

/** Line-wise masking of text files: `KEY=value`, `KEY: value`, and values that are secrets by shape. */
export function maskText(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      const assignment = /^(\s*(?:export\s+)?["']?([A-Za-z_][A-Za-z0-9_.-]*)["']?\s*[=:]\s*)(.+)$/.exec(line);
      if (assignment) {
        const [, lead, key, value] = assignment as unknown as [string, string, string, string];
        const unquoted = value.trim().replace(/^["']|["']$/g, '');
        const masked = maskString(key, unquoted);
        if (masked !== unquoted) return `${lead}${MASK}`;
      }
      return secretValue(line.trim()) ? line.replace(line.trim(), MASK) : line;
    })
    .join('\n');
}
