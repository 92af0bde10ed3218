import { UsageError } from '../config/errors.js';
import type { Platform } from '../model/platform.js';
import type { Secret } from '../model/secret.js';
import { bcryptHashBase64, bcryptMatches, generateLoginPassword, generateValue, valueProblem } from './rules.js';
import { emptyStore, type StoreData } from './store.js';
import { compareText } from '../output/order.js';

export interface FillResult {
  /** The store after the run (a new object; the input is not changed). */
  readonly data: StoreData;
  /** Secrets that got a value where they had none. */
  readonly added: string[];
  /** Secrets that got a new value in place of an old one. */
  readonly rotated: string[];
  /** Secrets you supply yourself that have no value yet. */
  readonly manualMissing: string[];
}

function copy(data: StoreData): StoreData {
  const out = emptyStore();
  for (const [k, v] of data.secrets) out.secrets.set(k, v);
  for (const [k, v] of data.passwords) out.passwords.set(k, v);
  return out;
}

/** Bcrypt secrets last: a hash is made from a password that may be generated in the same run. */
function inOrder(secrets: readonly Secret[]): Secret[] {
  return [...secrets.filter((s) => s.generate !== 'bcrypt'), ...secrets.filter((s) => s.generate === 'bcrypt')];
}

/** What `rotate --all` renews: every generated secret (user names aside) whose consumer reads it on every start. */
export function rotatable(platform: Platform): { rotate: string[]; left: string[] } {
  const rotate: string[] = [];
  const left: string[] = [];
  for (const s of platform.secrets) (s.generate === 'manual' || s.generate === 'user' || s.readOnce ? left : rotate).push(s.name);
  return { rotate, left };
}

/** A declared secret by name, or a one-line error naming the declared ones. */
export function declaredSecret(platform: Platform, name: string): Secret {
  const found = platform.secrets.find((s) => s.name === name);
  if (!found) throw new UsageError(`unknown secret ${name}; declared: ${platform.secrets.map((s) => s.name).join(', ')}`);
  return found;
}

export interface FillOptions {
  /** bcrypt cost of the hashes made. @default BCRYPT_COST (lib/secrets/rules.ts) */
  readonly bcryptCost?: number;
}

/**
 * Give every declared secret a value by its rule. Existing values are kept, except those named in
 * `rotate` (and the hashes made from a rotated password). Values in the store that the platform
 * no longer declares stay (`check` reports them as extra).
 */
export function fillStore(platform: Platform, current: StoreData, rotate: ReadonlySet<string> = new Set(), options: FillOptions = {}): FillResult {
  const data = copy(current);
  const added: string[] = [];
  const rotated: string[] = [];
  const manualMissing: string[] = [];
  const changed = new Set<string>();
  for (const name of rotate) {
    const secret = declaredSecret(platform, name);
    if (secret.generate === 'manual') throw new UsageError(`${name} is supplied by you, not generated: give it a new value with platform secrets set ${name}`);
    if (secret.readOnce) {
      throw new UsageError(
        `${name} is read only when its service first initialises its data: change it inside the service first, then store the new value with platform secrets set ${name}`,
      );
    }
  }
  for (const secret of inOrder(platform.secrets)) {
    const had = data.secrets.has(secret.name);
    if (secret.generate === 'manual') {
      if (!had) manualMissing.push(secret.name);
      continue;
    }
    if (secret.generate === 'bcrypt') {
      let password: string | undefined;
      if (secret.hashOf !== undefined) {
        password = data.secrets.get(secret.hashOf);
        if (password === undefined) throw new Error(`${secret.name} is the hash of ${secret.hashOf}, which has no value`);
        const stale = !had || rotate.has(secret.name) || changed.has(secret.hashOf) || !bcryptMatchesCached(data.secrets.get(secret.name), password);
        if (!stale) continue;
      } else {
        const kept = data.passwords.get(secret.name);
        if (had && kept !== undefined && !rotate.has(secret.name)) continue;
        password = generateLoginPassword();
        data.passwords.set(secret.name, password);
      }
      data.secrets.set(secret.name, bcryptHashBase64(password, options.bcryptCost));
    } else {
      if (had && !rotate.has(secret.name)) continue;
      data.secrets.set(secret.name, generateValue(secret));
    }
    changed.add(secret.name);
    (had ? rotated : added).push(secret.name);
  }
  return { data, added: added.sort(), rotated: rotated.sort(), manualMissing: manualMissing.sort() };
}

/** Skips a bcrypt run when there is no hash to compare. */
function bcryptMatchesCached(value: string | undefined, password: string): boolean {
  return value !== undefined && bcryptMatches(value, password);
}

export interface CheckResult {
  /** Declared secrets with no value. */
  readonly missing: string[];
  /** Values that break their secret's rule, with the rule in words (never the value). */
  readonly invalid: { readonly name: string; readonly problem: string }[];
  /** Values in the store the platform does not declare. */
  readonly extra: string[];
}

/** Every declared secret checked against its rule; a bcrypt hash also against the password it is made from. */
export function checkStore(platform: Platform, data: StoreData): CheckResult {
  const missing: string[] = [];
  const invalid: { name: string; problem: string }[] = [];
  const declared = new Map(platform.secrets.map((s) => [s.name, s]));
  for (const secret of platform.secrets) {
    const value = data.secrets.get(secret.name);
    if (value === undefined) {
      missing.push(secret.name);
      continue;
    }
    const problem = valueProblem(secret, value);
    if (problem) {
      invalid.push({ name: secret.name, problem });
      continue;
    }
    if (secret.generate !== 'bcrypt') continue;
    const password = secret.hashOf !== undefined ? data.secrets.get(secret.hashOf) : data.passwords.get(secret.name);
    if (password === undefined) {
      if (secret.hashOf === undefined) invalid.push({ name: secret.name, problem: 'has no password kept beside it (passwords section): rotate it to make both' });
    } else if (!bcryptMatches(value, password)) {
      invalid.push({ name: secret.name, problem: `is not the hash of ${secret.hashOf ?? 'the password kept beside it'}` });
    }
  }
  const extra = [...data.secrets.keys()].filter((name) => !declared.has(name));
  for (const name of data.passwords.keys()) {
    const secret = declared.get(name);
    if (!secret || secret.generate !== 'bcrypt' || secret.hashOf !== undefined) extra.push(`passwords.${name}`);
  }
  return { missing: missing.sort(), invalid: invalid.sort((a, b) => compareText(a.name, b.name)), extra: extra.sort() };
}
