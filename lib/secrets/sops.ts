/**
 * The SOPS file format with age, written and read in-process, so the store opens with `sops -d`
 * (and Flux or ArgoCD plugins that speak SOPS) as well as with this tool. What SOPS does, read from
 * getsops/sops (v3.9, `aes/cipher.go`, `sops.go`):
 * - every leaf value is AES-256-GCM with a 32-byte random nonce under one random 32-byte data key,
 *   written `ENC[AES256_GCM,data:<b64>,iv:<b64>,tag:<b64>,type:str]`; the additional data is the
 *   path of keys to the value, each followed by `:` (`secrets:PG_PASSWORD:`);
 * - the MAC is SHA-512 over the plaintext values in file order, upper-case hex, encrypted the
 *   same way with the `lastmodified` time (RFC 3339) as additional data;
 * - the data key is encrypted to each age recipient as an armored age file (`sops.age[].enc`).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { armor, Decrypter, Encrypter } from 'age-encryption';
import { parse, stringify } from 'yaml';

/** The store's tree: sections of name -> value, in file order. */
export type SopsTree = Record<string, Record<string, string>>;

/** The SOPS format version written into `sops.version`: the release whose format this follows. */
export const SOPS_FORMAT_VERSION = '3.9.4';

const NONCE_BYTES = 32;
const TAG_BYTES = 16;

function encryptValue(value: string, key: Buffer, additionalData: string): string {
  if (value === '') return '';
  const iv = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(additionalData, 'utf8'));
  const data = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
  return `ENC[AES256_GCM,data:${data.toString('base64')},iv:${iv.toString('base64')},tag:${cipher.getAuthTag().toString('base64')},type:str]`;
}

const ENCRYPTED = /^ENC\[AES256_GCM,data:([A-Za-z0-9+/=]*),iv:([A-Za-z0-9+/=]+),tag:([A-Za-z0-9+/=]+),type:([a-z0-9]+)\]$/;

/** Decrypt one value; undefined when it is not a SOPS value or the key or path does not fit. */
function decryptValue(text: string, key: Buffer, additionalData: string): string | undefined {
  if (text === '') return '';
  const m = ENCRYPTED.exec(text);
  if (!m || m[4] !== 'str') return undefined;
  try {
    const iv = Buffer.from(m[2] as string, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(additionalData, 'utf8'));
    decipher.setAuthTag(Buffer.from(m[3] as string, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(m[1] as string, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

function mac(tree: SopsTree): string {
  const hash = createHash('sha512');
  for (const section of Object.values(tree)) for (const value of Object.values(section)) hash.update(value, 'utf8');
  return hash.digest('hex').toUpperCase();
}

/** Encrypt `tree` to the age recipients as a SOPS YAML document. */
export async function encryptSops(tree: SopsTree, recipients: readonly string[], now = new Date()): Promise<string> {
  const key = randomBytes(32);
  const encrypted: SopsTree = {};
  for (const [section, values] of Object.entries(tree)) {
    encrypted[section] = {};
    for (const [name, value] of Object.entries(values)) (encrypted[section] as Record<string, string>)[name] = encryptValue(value, key, `${section}:${name}:`);
  }
  const lastmodified = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const age = [];
  for (const recipient of recipients) {
    const encrypter = new Encrypter();
    encrypter.addRecipient(recipient);
    age.push({ recipient, enc: armor.encode(await encrypter.encrypt(new Uint8Array(key))) });
  }
  const document = {
    ...encrypted,
    sops: {
      age,
      lastmodified,
      mac: encryptValue(mac(tree), key, lastmodified),
      unencrypted_suffix: '_unencrypted',
      version: SOPS_FORMAT_VERSION,
    },
  };
  return stringify(document, { lineWidth: 0 });
}

/** Why a SOPS document cannot be read (one line, no values). */
export class SopsError extends Error {}

/** The recipients a SOPS document is encrypted to. */
export function sopsRecipients(document: Record<string, unknown>): string[] {
  const age = (document.sops as { age?: { recipient?: unknown }[] } | undefined)?.age;
  return Array.isArray(age) ? age.map((a) => a.recipient).filter((r): r is string => typeof r === 'string') : [];
}

/**
 * Decrypt a parsed SOPS document with the given age identities: the data key from the first
 * recipient an identity opens, every value, and the MAC checked (a value changed or moved by hand
 * fails it).
 */
export async function decryptSops(document: Record<string, unknown>, identities: readonly string[]): Promise<SopsTree> {
  const metadata = document.sops as { age?: { recipient?: string; enc?: string }[]; lastmodified?: unknown; mac?: unknown } | undefined;
  if (!metadata || !Array.isArray(metadata.age) || metadata.age.length === 0) throw new SopsError('it has no sops.age recipients');
  if (typeof metadata.lastmodified !== 'string' || typeof metadata.mac !== 'string') throw new SopsError('its sops metadata lacks lastmodified or mac');
  let key: Buffer | undefined;
  for (const entry of metadata.age) {
    if (typeof entry?.enc !== 'string') continue;
    const decrypter = new Decrypter();
    for (const identity of identities) decrypter.addIdentity(identity);
    try {
      key = Buffer.from(await decrypter.decrypt(armor.decode(entry.enc)));
      break;
    } catch {
      // Not one of ours (or damaged): try the next recipient.
    }
  }
  if (!key || key.length !== 32) throw new SopsError(`none of its age recipients (${sopsRecipients(document).join(', ')}) is an identity of the key file`);
  const tree: SopsTree = {};
  for (const [section, values] of Object.entries(document)) {
    if (section === 'sops') continue;
    if (values === null || typeof values !== 'object' || Array.isArray(values)) throw new SopsError(`${section} is not a map of names to values`);
    tree[section] = {};
    for (const [name, text] of Object.entries(values as Record<string, unknown>)) {
      const value = typeof text === 'string' ? decryptValue(text, key, `${section}:${name}:`) : undefined;
      if (value === undefined) throw new SopsError(`${section}.${name} does not decrypt (changed by hand, or moved)`);
      (tree[section] as Record<string, string>)[name] = value;
    }
  }
  const expected = decryptValue(metadata.mac, key, metadata.lastmodified);
  const actual = Buffer.from(mac(tree));
  if (expected === undefined || expected.length !== actual.length || !timingSafeEqual(Buffer.from(expected), actual)) {
    throw new SopsError('its MAC does not match its values (changed by hand?)');
  }
  return tree;
}

/** Parse YAML text as a SOPS or plain document: a map at the top, or an error naming why not. */
export function parseStoreDocument(text: string): Record<string, unknown> {
  let document: unknown;
  try {
    document = parse(text);
  } catch (err) {
    throw new SopsError(`it is not YAML (${(err as Error).message.split('\n')[0]})`);
  }
  if (document === null || typeof document !== 'object' || Array.isArray(document)) throw new SopsError('it is not a YAML map');
  return document as Record<string, unknown>;
}
