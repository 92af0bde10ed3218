import type { Platform } from '../model/platform.js';
import type { Finding } from './finding.js';

/**
 * Variable names that carry credentials: the common suffixes (`*_PASSWORD`, `*_TOKEN`, `*_API_KEY`,
 * `AWS_SECRET_ACCESS_KEY`, `TS_AUTHKEY`, `LITELLM_MASTER_KEY`, `*_SECRET_KEY`, password hashes,
 * connection strings and DSNs, which carry their password).
 */
const SECRET_NAME =
  /(PASSWORD|PASSWD|_PASS|PASSPHRASE|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|(SECRET|ACCESS|AUTH|MASTER|SIGNING|ENCRYPTION|SESSION)_?KEY|CREDENTIALS?|_HASH|_SALT|_DSN|COOKIE_?KEY|WEBHOOK_?URL)$/i;
/** A URL with a password in it (`postgres://user:pw@host/db`), unless the password is a `${NAME}` reference. */
const URL_WITH_PASSWORD = /[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:(?!\$\{[A-Z0-9_]+(:\?)?\}@)[^/\s@]+@/i;
/** `${NAME}`, `${NAME:?}`, `$NAME`: what a user writes hoping for interpolation. */
const REFERENCE = /\$\{?([A-Za-z_][A-Za-z0-9_]*)/g;

/** Every free-form environment block of the config, with where it is. */
function envBlocks(platform: Platform): { path: (string | number)[]; env: Record<string, string>; declared: readonly string[] }[] {
  const { config } = platform;
  return [
    ...Object.entries(config.services).map(([name, s]) => ({ path: ['services', name, 'env'], env: s?.env ?? {}, declared: [] as string[] })),
    ...Object.entries(config.apps).map(([name, a]) => ({ path: ['apps', name, 'env'], env: a.env, declared: a.secrets })),
  ];
}

/** A credential written as a literal lands in git and in every rendered file. */
export function literalSecrets(platform: Platform): Finding[] {
  const findings: Finding[] = [];
  for (const { path, env } of envBlocks(platform)) {
    for (const [key, value] of Object.entries(env)) {
      const named = SECRET_NAME.test(key) && value !== '' && !/^\$\{[A-Z0-9_]+(:\?)?\}$/.test(value);
      const embedded = URL_WITH_PASSWORD.test(value);
      if (!named && !embedded) continue;
      findings.push({
        rule: 'secret-literal',
        severity: 'error',
        path: [...path, key],
        message: embedded
          ? `${key} is a URL with a password in it; it would be committed and rendered into every output`
          : `${key} is set to a literal value in platform.yaml; it would be committed and rendered into every output`,
        fix: path[0] === 'apps' ? `remove it from env and list ${key} under ${path.slice(0, 2).join('.')}.secrets` : 'remove it; set the value in the stack\'s .env or Kubernetes Secret instead',
      });
    }
  }
  return findings;
}

/** A `${NAME}` in a value that names no declared secret is never filled: the output escapes it. */
export function undeclaredSecrets(platform: Platform): Finding[] {
  const declared = new Set(platform.secrets.map((s) => s.name));
  const findings: Finding[] = [];
  for (const { path, env, declared: own } of envBlocks(platform)) {
    for (const [key, value] of Object.entries(env)) {
      for (const match of value.matchAll(REFERENCE)) {
        const name = match[1] as string;
        if (declared.has(name) || own.includes(name)) continue;
        findings.push({
          rule: 'secret-undeclared',
          severity: 'error',
          path: [...path, key],
          message: `${key} uses \${${name}}, but no secret ${name} is declared; the value would be passed on literally`,
          fix: path[0] === 'apps' ? `declare it: add ${name} to ${path.slice(0, 2).join('.')}.secrets and use it as its own variable` : `drop the reference; services take secrets only from their own declarations`,
        });
      }
    }
  }
  return findings;
}
