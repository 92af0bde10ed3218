import { createCipheriv, createHash, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/*
 * Every restic process opens the repository by deriving the user key from the password with
 * scrypt, using the parameters stored in the repository's key file; `restic init` calibrates them
 * to take half a second on the machine (restic v0.18.1 internal/repository/key.go:50-56 KDFTimeout
 * 500 ms and KDFMemory 60 MiB, internal/crypto/kdf.go:30-49 Calibrate). A test that runs restic
 * a hundred times spends most of its time there, and asserts nothing about it. restic's own tests
 * lower the parameters to N=128, r=1, p=1 (internal/repository/testing.go:27-37
 * TestUseLowSecurityKDFParameters); `lowerKeyDerivationCost` does the same to a repository on disk:
 * it re-wraps the master key (which encrypts every pack, index and snapshot, and is unchanged) in a
 * new key file whose user key comes from cheap scrypt parameters. restic still opens the repository
 * with the password, decrypts and authenticates the master key, then reads the repository as before.
 *
 * The key file format, as restic v0.18.1 (the backup job's image, RESTIC_IMAGE) reads and writes it;
 * the files cited here are the same in v0.18.0:
 * - internal/repository/key.go:28-38: JSON {created, username, hostname, kdf, N, r, p, salt, data},
 *   salt and data base64 ([]byte in Go's encoding/json); only kdf "scrypt" is accepted (:73).
 * - internal/crypto/kdf.go:53-90: scrypt(password, salt, N, r, p) gives 64 bytes: the first 32 are
 *   the AES-256 key, the next 32 the MAC key k||r (k: AES-128 key, r: Poly1305 key); the salt is
 *   64 bytes (:13, :54).
 * - internal/repository/key.go:89-90 and :258-262: data is nonce (16 bytes) || Seal(master key JSON).
 * - internal/crypto/crypto.go:243-273 Seal: AES-256-CTR with the nonce as IV, then a Poly1305 tag
 *   of the ciphertext appended; :50-78 the one-time Poly1305 key is r || AES-128_k(nonce).
 * - internal/repository/key.go:265-277: the file is stored under keys/<sha256 of its bytes>, and
 *   internal/repository/raw.go:16-37 LoadRaw rejects a key file whose content does not hash to its name.
 */

/** The scrypt parameters of restic's own tests (internal/repository/testing.go:31-35). */
export const LOW_SECURITY_KDF = { N: 128, r: 1, p: 1 } as const;

interface KeyFile {
  kdf: string;
  N: number;
  r: number;
  p: number;
  salt: string;
  data: string;
  [field: string]: unknown;
}

/** Poly1305 (RFC 8439 section 2.5) of `message` under the one-time key r || s. */
export function poly1305(message: Buffer, r: Buffer, s: Buffer): Buffer {
  const littleEndian = (bytes: Buffer) => BigInt(`0x${Buffer.from(bytes).reverse().toString('hex') || '0'}`);
  const prime = (1n << 130n) - 5n;
  const clamped = littleEndian(r) & 0x0ffffffc0ffffffc0ffffffc0fffffffn;
  let accumulator = 0n;
  for (let at = 0; at < message.length; at += 16) {
    const block = Buffer.concat([message.subarray(at, at + 16), Buffer.from([1])]);
    accumulator = ((accumulator + littleEndian(block)) * clamped) % prime;
  }
  const tag = (accumulator + littleEndian(s)) & ((1n << 128n) - 1n);
  return Buffer.from(tag.toString(16).padStart(32, '0'), 'hex').reverse();
}

/** restic's Poly1305-AES tag: Poly1305 with r and s = AES-128_k(nonce) (internal/crypto/crypto.go:50-78). */
function resticMac(ciphertext: Buffer, nonce: Buffer, macKey: Buffer): Buffer {
  const aes = createCipheriv('aes-128-ecb', macKey.subarray(0, 16), null).setAutoPadding(false);
  const s = Buffer.concat([aes.update(nonce), aes.final()]);
  return poly1305(ciphertext, macKey.subarray(16, 32), s);
}

function userKey(password: string, key: Pick<KeyFile, 'N' | 'r' | 'p'>, salt: Buffer): CipherKey {
  // scrypt needs 128 * N * r bytes; restic calibrates within 60 MiB.
  const derived = scryptSync(password, salt, 64, { N: key.N, r: key.r, p: key.p, maxmem: 256 * 1024 * 1024 });
  return { encryption: derived.subarray(0, 32), mac: derived.subarray(32, 64) };
}

function aes256ctr(key: Buffer, nonce: Buffer, data: Buffer): Buffer {
  const cipher = createCipheriv('aes-256-ctr', key, nonce);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

/** An AES-256 key and a Poly1305-AES MAC key k || r, as restic's crypto.Key holds them (internal/crypto/crypto.go:34-48). */
export interface CipherKey {
  readonly encryption: Buffer;
  /** k (AES-128 key, 16 bytes) || r (Poly1305 key, 16 bytes). */
  readonly mac: Buffer;
}

/** restic's Seal (internal/crypto/crypto.go:243-273): nonce (16 random bytes) || AES-256-CTR ciphertext || Poly1305-AES tag of the ciphertext. */
function seal(key: CipherKey, plaintext: Buffer): Buffer {
  const nonce = randomBytes(16);
  const ciphertext = aes256ctr(key.encryption, nonce, plaintext);
  return Buffer.concat([nonce, ciphertext, resticMac(ciphertext, nonce, key.mac)]);
}

/** restic's Open (internal/crypto/crypto.go:286-323): the tag checked first, then the ciphertext decrypted; `undefined` when the tag does not match. */
function open(key: CipherKey, sealed: Buffer): Buffer | undefined {
  const nonce = sealed.subarray(0, 16);
  const ciphertext = sealed.subarray(16, sealed.length - 16);
  if (sealed.length < 32 || !timingSafeEqual(resticMac(ciphertext, nonce, key.mac), sealed.subarray(sealed.length - 16))) return undefined;
  return aes256ctr(key.encryption, nonce, ciphertext);
}

/** A key file of the repository, opened with the password: the file, and the master key JSON it wraps. */
function openKeyFile(path: string, password: string): { file: KeyFile; master: Buffer } {
  const file = JSON.parse(readFileSync(path, 'utf8')) as KeyFile;
  if (file.kdf !== 'scrypt') throw new Error(`${path}: kdf ${file.kdf}, restic only writes scrypt`);
  const master = open(userKey(password, file, Buffer.from(file.salt, 'base64')), Buffer.from(file.data, 'base64'));
  if (master === undefined) throw new Error(`${path}: the password does not open this key (Poly1305 tag mismatch)`);
  return { file, master };
}

/**
 * The mode restic's local backend gives a file it stores in `repo`: 0600, plus group read/write
 * when the repository's config file is group-readable (internal/backend/local/local.go:43-44,
 * internal/backend/util/paths.go:12-29), then made read-only (local.go:192-195, local_unix.go:45-46).
 */
function storedFileMode(repo: string): number {
  const groupReadable = (statSync(join(repo, 'config')).mode & 0o040) !== 0;
  return (groupReadable ? 0o660 : 0o600) & ~0o222;
}

/**
 * Re-wraps the master key of every key file of the local repository `repo` with the cheap scrypt
 * parameters restic's own tests use, replacing each key file. Throws when the password does not
 * open a key (the Poly1305 tag is checked, as restic checks it).
 */
export function lowerKeyDerivationCost(repo: string, password: string): void {
  const keys = join(repo, 'keys');
  const mode = storedFileMode(repo);
  for (const name of readdirSync(keys)) {
    const path = join(keys, name);
    const { file, master } = openKeyFile(path, password);
    const salt = randomBytes(64);
    const rewrapped: KeyFile = {
      ...file,
      ...LOW_SECURITY_KDF,
      salt: salt.toString('base64'),
      data: seal(userKey(password, LOW_SECURITY_KDF, salt), master).toString('base64'),
    };
    const content = JSON.stringify(rewrapped);
    // restic's local backend makes repository files read-only (see storedFileMode).
    writeFileSync(join(keys, createHash('sha256').update(content).digest('hex')), content, { mode });
    rmSync(path, { force: true });
  }
}

/**
 * The master key of the local repository `repo` (the key that encrypts every pack, index and
 * snapshot), from the first key file the password opens, as restic searches its key files
 * (internal/repository/key.go:64-110 OpenKey, :115 SearchKey). In the key file it is JSON
 * {"mac": {"k": base64, "r": base64}, "encrypt": base64} (internal/crypto/crypto.go:34-48, :122-182).
 */
export function openMasterKey(repo: string, password: string): CipherKey {
  const keys = join(repo, 'keys');
  const errors: string[] = [];
  for (const name of readdirSync(keys)) {
    try {
      const master = JSON.parse(openKeyFile(join(keys, name), password).master.toString('utf8')) as { mac: { k: string; r: string }; encrypt: string };
      return { encryption: Buffer.from(master.encrypt, 'base64'), mac: Buffer.concat([Buffer.from(master.mac.k, 'base64'), Buffer.from(master.mac.r, 'base64')]) };
    } catch (error) {
      errors.push((error as Error).message);
    }
  }
  throw new Error(`${repo}: no key file opens with the password: ${errors.join('; ') || 'no key files'}`);
}

/**
 * A snapshot as `restic snapshots --json` lists it: the fields restic stores
 * (internal/restic/snapshot.go:15-32: time, parent, tree, paths, hostname, username, uid, gid,
 * excludes, tags, original, program_version, summary), plus `id` and `short_id`, which the listing
 * adds (cmd/restic/cmd_snapshots.go:326-331) and restic never stores: a snapshot's ID is the hash
 * of its file.
 */
export interface ListedSnapshot {
  time: string;
  tree: string;
  paths: string[];
  hostname?: string;
  tags?: string[];
  id?: string;
  short_id?: string;
  [field: string]: unknown;
}

/**
 * Stores `snapshot` in the local repository `repo` as restic stores a snapshot, and returns its
 * ID: what a `restic backup` of the same tree at `snapshot.time` would have left, without a restic
 * process (each one opens the repository and waits on its lock, ~0.3-0.8 s here). As restic
 * v0.18.1 writes it:
 * - internal/restic/snapshot.go:93-95 and internal/restic/json.go:24-32: the snapshot is saved as
 *   its JSON (Go's encoding of time.Time is RFC 3339, which toISOString() writes) through
 *   SaveUnpacked; `id`/`short_id` are dropped here, they are the listing's.
 * - internal/repository/repository.go:468-500 saveUnpacked: the plaintext is compressed
 *   (:424-433, a version byte 2 then zstd, in a version 2 repository), sealed with the master key
 *   after a random nonce (:479-482), and stored under the SHA-256 of the stored bytes (:492).
 *   This helper stores the plain JSON instead: decompressUnpacked (:436-457) takes a plaintext
 *   that starts with `{` or `[` as uncompressed JSON (snapshots a repository kept from before its
 *   upgrade to format version 2), and a version 1 repository reads only plain JSON; restic 0.14
 *   reads it the same way (v0.14.0 internal/repository/repository.go:442-462). Node 20 has no zstd.
 * - internal/repository/raw.go:16-42 LoadRaw: restic rejects a file whose bytes do not hash to its
 *   name; internal/backend/layout/layout_default.go:18-61: snapshots/<id>, no subfolder.
 */
export function writeSnapshot(repo: string, master: CipherKey, snapshot: ListedSnapshot): string {
  const { id: _id, short_id: _shortId, ...stored } = snapshot;
  const sealed = seal(master, Buffer.from(JSON.stringify(stored), 'utf8'));
  const id = createHash('sha256').update(sealed).digest('hex');
  // restic writes a temporary file and renames it into place (internal/backend/local/local.go:120-182): a listing never sees half a file.
  const path = join(repo, 'snapshots', id);
  writeFileSync(`${path}-tmp-platform`, sealed, { mode: storedFileMode(repo) });
  renameSync(`${path}-tmp-platform`, path);
  return id;
}
