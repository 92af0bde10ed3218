import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { stringify } from 'yaml';
import { UsageError } from '../config/errors.js';
import { describeOsError } from '../output/writer.js';
import { decryptSops, encryptSops, parseStoreDocument, SopsError, sopsRecipients } from './sops.js';

/** The store file beside the config (or in the working folder) when `--store` is not given. */
export const DEFAULT_STORE = 'platform.secrets.yaml';

/** Secret files are readable by their owner only. */
export const SECRET_FILE_MODE = 0o600;

/** What the store holds: each secret's value, and the password each generated bcrypt hash was made from. */
export interface StoreData {
  /** Secret name -> value. */
  readonly secrets: Map<string, string>;
  /** bcrypt secret name -> the password it is the hash of (what you log in with). */
  readonly passwords: Map<string, string>;
}

export type StoreFormat = 'sops' | 'plain';

export interface OpenStore {
  readonly path: string;
  readonly format: StoreFormat;
  readonly data: StoreData;
  /** age recipients an encrypted store is written to (kept from the file). */
  readonly recipients: readonly string[];
  /** The file did not exist: an empty store. */
  readonly created: boolean;
}

export function emptyStore(): StoreData {
  return { secrets: new Map(), passwords: new Map() };
}

/**
 * The age key file: `--identity`, else `$SOPS_AGE_KEY_FILE`, else SOPS's default
 * `$XDG_CONFIG_HOME/sops/age/keys.txt` (`~/.config/sops/age/keys.txt`), so `sops -d` opens the
 * store with no setup.
 */
export function identityPath(explicit?: string): string {
  if (explicit !== undefined && explicit !== '') return explicit;
  const env = process.env.SOPS_AGE_KEY_FILE;
  if (env) return env;
  const config = process.env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(config, 'sops', 'age', 'keys.txt');
}

/** The identities (`AGE-SECRET-KEY-1...` lines) of a key file; a missing or empty one is a usage error. */
export function readIdentities(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError(`no age identity at ${path}: run platform secrets init, or give --identity FILE`);
    throw new UsageError(`cannot read the age identity ${path}: ${describeOsError(err) ?? (err as Error).message}`);
  }
  const identities = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('AGE-SECRET-KEY-1'));
  if (identities.length === 0) throw new UsageError(`${path} holds no age identity (no AGE-SECRET-KEY-1... line)`);
  return identities;
}

/**
 * The age identity's public key, creating the key file (0600, in a 0700 folder) when there is none.
 * The private key is never printed.
 */
export async function ensureIdentity(path: string): Promise<{ recipient: string; created: boolean }> {
  if (existsSync(path)) {
    const [first] = readIdentities(path);
    try {
      return { recipient: await identityToRecipient(first as string), created: false };
    } catch {
      throw new UsageError(`${path}: its first AGE-SECRET-KEY-1 line is not a valid age identity`);
    }
  }
  const identity = await generateX25519Identity();
  const recipient = await identityToRecipient(identity);
  const content = `# created: ${new Date().toISOString()} by platform secrets\n# public key: ${recipient}\n${identity}\n`;
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new UsageError(`cannot create ${dirname(path)}: ${describeOsError(err) ?? (err as Error).message}`);
  }
  writeFileAtomic(path, content);
  return { recipient, created: true };
}

/** Write a file readable by its owner only: a temporary file beside it, then rename(2). */
export function writeFileAtomic(path: string, content: string, mode = SECRET_FILE_MODE): void {
  const temp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const fd = openSync(temp, 'wx', mode);
    try {
      writeSync(fd, content);
    } finally {
      closeSync(fd);
    }
    chmodSync(temp, mode);
    renameSync(temp, path);
  } catch (err) {
    rmSync(temp, { force: true });
    const reason = describeOsError(err);
    if (reason) throw new UsageError(`cannot write ${path}: ${reason}`);
    throw err;
  }
}

function toData(tree: Record<string, unknown>, path: string): StoreData {
  const data = emptyStore();
  for (const [section, values] of Object.entries(tree)) {
    if (section === 'sops') continue;
    const target = section === 'secrets' ? data.secrets : section === 'passwords' ? data.passwords : undefined;
    if (!target) throw new UsageError(`${path} is not a platform secrets store: unknown section "${section}" (allowed: secrets, passwords)`);
    if (values === null || values === undefined) continue;
    if (typeof values !== 'object' || Array.isArray(values)) throw new UsageError(`${path}: ${section} is not a map of names to values`);
    for (const [name, value] of Object.entries(values as Record<string, unknown>)) {
      if (typeof value !== 'string') throw new UsageError(`${path}: ${section}.${name} is not a string`);
      target.set(name, value);
    }
  }
  return data;
}

/** Open the store: encrypted (SOPS) when it has `sops:` metadata, else plain. A missing file is an empty store. */
export async function openStore(path: string, options: { identity?: string; plain?: boolean } = {}): Promise<OpenStore> {
  let text: string;
  try {
    if (statSync(path).isDirectory()) throw new UsageError(`cannot read the store ${path}: it is a folder`);
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof UsageError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      return { path, format: options.plain ? 'plain' : 'sops', data: emptyStore(), recipients: [], created: true };
    }
    throw new UsageError(`cannot read the store ${path}: ${describeOsError(err) ?? (err as Error).message}`);
  }
  let document: Record<string, unknown>;
  try {
    document = text.trim() === '' ? {} : parseStoreDocument(text);
  } catch (err) {
    throw new UsageError(`${path} is not a platform secrets store: ${(err as Error).message}`);
  }
  if (!('sops' in document)) {
    if (text.includes('ENC[AES256_GCM')) throw new UsageError(`${path} holds SOPS values without its sops: metadata; restore it from a backup`);
    return { path, format: 'plain', data: toData(document, path), recipients: [], created: false };
  }
  if (options.plain) throw new UsageError(`${path} is encrypted; --plain applies only to a new store`);
  const identities = readIdentities(identityPath(options.identity));
  let tree;
  try {
    tree = await decryptSops(document, identities);
  } catch (err) {
    if (err instanceof SopsError) throw new UsageError(`cannot open the store ${path}: ${err.message}`);
    throw err;
  }
  return { path, format: 'sops', data: toData(tree, path), recipients: sopsRecipients(document), created: false };
}

function sorted(map: ReadonlyMap<string, string>): Record<string, string> {
  return Object.fromEntries([...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The store's text: SOPS-encrypted to `recipients`, or plain YAML with a warning at the top. */
export async function renderStore(data: StoreData, format: StoreFormat, recipients: readonly string[]): Promise<string> {
  const tree = { secrets: sorted(data.secrets), passwords: sorted(data.passwords) };
  if (format === 'sops') return encryptSops(tree, recipients);
  return `# platform secrets store (plain, not encrypted): never commit it, keep it mode 0600.\n${stringify(tree, { lineWidth: 0 })}`;
}

/** Write the store atomically, mode 0600, and make sure git ignores it. */
export async function saveStore(store: OpenStore, data: StoreData, recipients: readonly string[]): Promise<void> {
  writeFileAtomic(store.path, await renderStore(data, store.format, recipients));
  ignoreInGit(store.path);
}

/** The nearest folder at or above `from` holding `.git`, or undefined. */
export function gitRoot(from: string): string | undefined {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    if (existsSync(join(dir, '.git'))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * Add `path` to the `.gitignore` of its git repository (or of its folder, outside one) unless a
 * line already names it. Returns whether a line was added.
 */
export function ignoreInGit(path: string): boolean {
  const full = resolve(path);
  const root = gitRoot(dirname(full)) ?? dirname(full);
  return ignorePattern(root, `/${relative(root, full).split(sep).join('/')}`, [basename(full)]);
}

/** Add `entry` to `<root>/.gitignore` unless it (or one of `equivalents`) is a line there already. */
export function ignorePattern(root: string, entry: string, equivalents: readonly string[] = []): boolean {
  const file = join(root, '.gitignore');
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new UsageError(`cannot read ${file}: ${describeOsError(err) ?? (err as Error).message}`);
  }
  const lines = text.split('\n').map((l) => l.trim());
  if ([entry, entry.replace(/^\//, ''), ...equivalents].some((e) => lines.includes(e))) return false;
  const next = `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${entry}\n`;
  writeFileAtomic(file, next, 0o644);
  return true;
}
