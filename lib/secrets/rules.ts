import { randomInt } from 'node:crypto';
import bcrypt from 'bcryptjs';
import type { Secret } from '../model/secret.js';

/**
 * bcrypt cost of the hashes `platform secrets` makes. The cost is a field of the hash itself
 * (`$2a$12$...`), so Caddy and ntfy verify any cost; 12 is above bcrypt's usual floor of 10 and
 * keeps one check near a quarter of a second, where `caddy hash-password`'s 14 costs about a second
 * of CPU on every check of a basic-auth request.
 */
export const BCRYPT_COST = 12;

/**
 * The lowest cost bcrypt takes: bcryptjs raises a lower one to 4 (genSaltSync), and Go's
 * golang.org/x/crypto/bcrypt, which Caddy and ntfy verify with, accepts 4 to 31 (`MinCost = 4`,
 * checkCost in bcrypt.go). Only the test suite makes hashes this cheap (SecretsIo.bcryptCost).
 */
export const BCRYPT_MIN_COST = 4;

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const LOWER_ALPHANUMERIC = 'abcdefghijklmnopqrstuvwxyz0123456789';
const HEX = '0123456789abcdef';

function random(alphabet: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

/**
 * A bcrypt hash of `password`, base64-encoded as the platform's consumers read it (see SecretGenerator
 * `bcrypt`). The cost is written into the hash (`$2a$12$...`), and every check reads it from there.
 */
export function bcryptHashBase64(password: string, cost: number = BCRYPT_COST): string {
  if (!Number.isInteger(cost) || cost < BCRYPT_MIN_COST || cost > 31) throw new Error(`bcrypt cost ${cost}: must be a whole number from ${BCRYPT_MIN_COST} to 31`);
  // golang.org/x/crypto/bcrypt (Caddy, ntfy) reads `$2a$`; for passwords under 72 bytes `$2a$` and `$2b$` hash alike.
  const salt = bcrypt.genSaltSync(cost).replace(/^\$2b\$/, '$2a$');
  const value = Buffer.from(bcrypt.hashSync(password, salt), 'utf8').toString('base64');
  matched.set(`${value}\u0000${password}`, true);
  return value;
}

/** The bcrypt hash inside a base64 value, or undefined when it is not one. */
export function decodeBcrypt(value: string): string | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return undefined;
  const hash = Buffer.from(value, 'base64').toString('utf8');
  return /^\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}$/.test(hash) ? hash : undefined;
}

/** Answers already computed in this process: a check costs a bcrypt run, and generate, set and check repeat them. */
const matched = new Map<string, boolean>();

/** Whether a base64 bcrypt hash is the hash of `password` (one bcrypt run per pair and process). */
export function bcryptMatches(value: string, password: string): boolean {
  const key = `${value}\u0000${password}`;
  const known = matched.get(key);
  if (known !== undefined) return known;
  const hash = decodeBcrypt(value);
  const result = hash !== undefined && bcrypt.compareSync(password, hash);
  matched.set(key, result);
  return result;
}

/** A new value for a secret that is not a bcrypt hash (those are made from their password: see `bcryptHashBase64`). */
export function generateValue(secret: Secret): string {
  switch (secret.generate) {
    case 'password':
      // A prefixed key keeps the shape its consumer documents (LiteLLM: `sk-` and hex).
      return secret.prefix !== undefined ? `${secret.prefix}${random(HEX, 48)}` : random(ALPHANUMERIC, 32);
    case 'password64':
      return random(ALPHANUMERIC, 64);
    case 'hex32':
      return random(HEX, 32);
    case 'hex64':
      return random(HEX, 64);
    case 'user':
      // A role name Postgres takes unquoted and MinIO takes as its root user (3 to 63 characters).
      return `u${random(LOWER_ALPHANUMERIC, 15)}`;
    case 'ntfyToken':
      return `tk_${random(LOWER_ALPHANUMERIC, 29)}`;
    case 'bcrypt':
      throw new Error(`${secret.name} is a bcrypt hash: it is made from its password`);
    case 'manual':
      throw new Error(`${secret.name} is supplied by the owner; nothing generates it`);
  }
}

/** A password to hash for a bcrypt secret that has no password secret of its own. */
export function generateLoginPassword(): string {
  return random(ALPHANUMERIC, 32);
}

/**
 * What is wrong with `value` for `secret`, in words that never include the value; undefined when
 * it satisfies the secret's rule. Values made by hand with the `.env.example` recipes pass too
 * (`openssl rand -base64 24` has `+ / =`).
 */
export function valueProblem(secret: Secret, value: string): string | undefined {
  if (value === '') return 'is empty';
  if (/[\u0000-\u001f\u007f]/.test(value)) return 'holds a control character or a line break';
  if (secret.prefix !== undefined && !value.startsWith(secret.prefix)) return `must start with ${secret.prefix}`;
  const body = secret.prefix !== undefined ? value.slice(secret.prefix.length) : value;
  switch (secret.generate) {
    case 'password':
      return body.length < 16 || /\s/.test(body) ? 'must be at least 16 characters without spaces' : undefined;
    case 'password64':
      return body.length < 32 || /\s/.test(body) ? 'must be at least 32 characters without spaces' : undefined;
    case 'hex32':
      return /^[0-9a-fA-F]{32,}$/.test(body) ? undefined : 'must be at least 32 hex digits';
    case 'hex64':
      return /^[0-9a-fA-F]{64}$/.test(body) ? undefined : 'must be exactly 64 hex digits';
    case 'user':
      return /^[A-Za-z][A-Za-z0-9_]{2,62}$/.test(body) ? undefined : 'must be 3 to 63 letters, digits or _, starting with a letter';
    case 'ntfyToken':
      return /^tk_[a-z0-9]{29}$/.test(body) ? undefined : 'must be tk_ and 29 lower-case letters or digits';
    case 'bcrypt':
      return decodeBcrypt(body) ? undefined : 'must be a base64-encoded bcrypt hash ($2a$, $2b$ or $2y$)';
    case 'manual':
      return undefined;
  }
}
