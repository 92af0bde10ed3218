import { createCipheriv, createHash, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/*
 * Every restic process opens the repository by deriving the user key from the password with
 * scrypt, using the parameters stored in the repository's key file; `restic init` calibrates them
 * to take half a second on the machine (restic v0.18.0 internal/repository/key.go:50-56 KDFTimeout
 * 500 ms and KDFMemory 60 MiB, internal/crypto/kdf.go:30-49 Calibrate). A test that runs restic
 * a hundred times spends most of its time there, and asserts nothing about it. restic's own tests
 * lower the parameters to N=128, r=1, p=1 (internal/repository/testing.go:27-37
 * TestUseLowSecurityKDFParameters); `lowerKeyDerivationCost` does the same to a repository on disk:
 * it re-wraps the master key (which encrypts every pack, index and snapshot, and is unchanged) in a
 * new key file whose user key comes from cheap scrypt parameters. restic still opens the repository
 * with the password, decrypts and authenticates the master key, then reads the repository as before.
 *
 * The key file format, as restic v0.18.0 reads and writes it:
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

function userKey(password: string, key: Pick<KeyFile, 'N' | 'r' | 'p'>, salt: Buffer): { encryption: Buffer; mac: Buffer } {
  // scrypt needs 128 * N * r bytes; restic calibrates within 60 MiB.
  const derived = scryptSync(password, salt, 64, { N: key.N, r: key.r, p: key.p, maxmem: 256 * 1024 * 1024 });
  return { encryption: derived.subarray(0, 32), mac: derived.subarray(32, 64) };
}

function aes256ctr(key: Buffer, nonce: Buffer, data: Buffer): Buffer {
  const cipher = createCipheriv('aes-256-ctr', key, nonce);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

/**
 * Re-wraps the master key of every key file of the local repository `repo` with the cheap scrypt
 * parameters restic's own tests use, replacing each key file. Throws when the password does not
 * open a key (the Poly1305 tag is checked, as restic checks it).
 */
export function lowerKeyDerivationCost(repo: string, password: string): void {
  const keys = join(repo, 'keys');
  for (const name of readdirSync(keys)) {
    const path = join(keys, name);
    const key = JSON.parse(readFileSync(path, 'utf8')) as KeyFile;
    if (key.kdf !== 'scrypt') throw new Error(`${path}: kdf ${key.kdf}, restic only writes scrypt`);
    const data = Buffer.from(key.data, 'base64');
    const nonce = data.subarray(0, 16);
    const ciphertext = data.subarray(16, data.length - 16);
    const user = userKey(password, key, Buffer.from(key.salt, 'base64'));
    if (!timingSafeEqual(resticMac(ciphertext, nonce, user.mac), data.subarray(data.length - 16))) {
      throw new Error(`${path}: the password does not open this key (Poly1305 tag mismatch)`);
    }
    const master = aes256ctr(user.encryption, nonce, ciphertext);

    const salt = randomBytes(64);
    const cheap = userKey(password, LOW_SECURITY_KDF, salt);
    const newNonce = randomBytes(16);
    const sealed = aes256ctr(cheap.encryption, newNonce, master);
    const rewrapped: KeyFile = {
      ...key,
      ...LOW_SECURITY_KDF,
      salt: salt.toString('base64'),
      data: Buffer.concat([newNonce, sealed, resticMac(sealed, newNonce, cheap.mac)]).toString('base64'),
    };
    const content = JSON.stringify(rewrapped);
    // restic's local backend makes repository files read-only (internal/backend/local/local.go:192-195).
    writeFileSync(join(keys, createHash('sha256').update(content).digest('hex')), content, { mode: 0o400 });
    rmSync(path, { force: true });
  }
}
