/**
 * `platform secrets`: the store (age-encrypted SOPS, or plain), generation by each secret's rule,
 * check, rotation, and the hand-over to each target. Commands run in-process (`secretsProgram`)
 * with their output captured; the real `age`, Caddy and Postgres check what they produce.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { decryptSops as sopsAgeDecrypt } from 'sops-age';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../lib/config/load.js';
import { reportError } from '../lib/exit.js';
import { PROVISION_SQL_PATH } from '../lib/services/postgres-provision.js';
import { secretsProgram, type SecretsIo } from '../lib/secrets/command.js';
import { KUBESEAL_ARGS } from '../lib/secrets/handover.js';
import { BCRYPT_COST, BCRYPT_MIN_COST, decodeBcrypt, valueProblem } from '../lib/secrets/rules.js';
import { fillStore } from '../lib/secrets/lifecycle.js';
import { listFiles } from '../lib/output/writer.js';
import { buildPlatform, checkOutput, synthesize } from '../lib/synth.js';
import { parseDotenv } from './support/compose-interpolation.js';
import { platformInProcess } from './support/cli.js';
import { renderK3sTree } from './support/k3s.js';
import { simulateBootstrap } from './support/argocd-waves.js';
import { postgresAvailable, startCluster, type TestCluster } from './support/postgres.js';
import { freePort } from './support/process.js';
import { inlineConfig, loadFixture, renderTree } from './support/render.js';
import { toolAvailable } from './support/tools.js';
import { readYaml } from './support/yaml.js';

const APP = { image: 'ghcr.io/example/api:1.0.0', port: 3000, connects: ['postgres'], healthPath: '/health' };
const CONFIG = { apps: { api: { ...APP, secrets: ['API_SECRET_KEY'] } } };
const GROWN = { apps: { ...CONFIG.apps, worker: { ...APP, secrets: ['WORKER_TOKEN'] } } };

let dir: string;
let identity: string;
let configFile: string;
let storeFile: string;

interface Run {
  code: number;
  out: string;
  err: string;
}

/**
 * bcrypt cost of the hashes the commands make here. The cost is a field of each hash (`$2a$04$...`)
 * that every check reads from it (bcryptjs compareSync; Go's golang.org/x/crypto/bcrypt in Caddy and
 * ntfy, whose MinCost is 4), so a cheap hash behaves like a dear one everywhere but in CPU: at the
 * real cost (BCRYPT_COST, 12) the store's hashes took half of this file's time. The hashes users get
 * are checked at cost 12 in 'the hashes users get'.
 */
const TEST_BCRYPT_COST = BCRYPT_MIN_COST;

/** Run `platform secrets <args>` in-process, as the CLI does (errors through reportError); `env` for the programs it runs (kubeseal). */
async function secrets(args: string[], stdin = '', env?: NodeJS.ProcessEnv): Promise<Run> {
  let out = '';
  let err = '';
  let code = 0;
  const io: SecretsIo = { out: (t) => (out += t), err: (t) => (err += t), stdin: async () => stdin, cwd: dir, setExitCode: (c) => (code = c), bcryptCost: TEST_BCRYPT_COST, env };
  try {
    await secretsProgram(io).parseAsync(args, { from: 'user' });
  } catch (e) {
    const reported = reportError(e);
    code = reported.code;
    err += reported.text;
  }
  return { code, out, err };
}

/** The multus fixture (sealed secrets on) and its k3s tree, rendered once for the tests that read it. */
const multus = (() => {
  const loaded = loadFixture('valid', 'multus');
  let rendered: ReturnType<typeof renderK3sTree> | undefined;
  return { loaded, tree: () => (rendered ??= renderK3sTree(loaded)) };
})();

/** The test config's plain-Compose tree, rendered once (the config file never changes). */
let plainRendered: ReturnType<typeof renderTree> | undefined;
const plainTree = () => (plainRendered ??= renderTree(loadConfigFile(configFile), 'plain'));

const withStore = (args: string[]) => [...args, '--config', configFile, '--store', storeFile, '--identity', identity];

/** The store's values, opened with the real identity (through the CLI's own reader). */
async function values(path = storeFile): Promise<{ secrets: Record<string, string>; passwords: Record<string, string> }> {
  const { openStore } = await import('../lib/secrets/store.js');
  const store = await openStore(path, { identity });
  return { secrets: Object.fromEntries(store.data.secrets), passwords: Object.fromEntries(store.data.passwords) };
}

/** Every value of the store must be absent from `text`. */
async function expectNoValues(text: string, what: string): Promise<void> {
  const { secrets: s, passwords: p } = await values();
  for (const [name, value] of [...Object.entries(s), ...Object.entries(p)]) expect(text.includes(value), `${what} shows ${name}`).toBe(false);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'platform-secrets-'));
  mkdirSync(join(dir, '.git'));
  identity = join(dir, 'age', 'keys.txt');
  configFile = join(dir, 'platform.yaml');
  writeFileSync(configFile, stringify(CONFIG));
  storeFile = join(dir, 'platform.secrets.yaml');
  const first = await secrets(withStore(['generate']));
  expect(first.code, first.err).toBe(0);
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('generate', () => {
  it('makes a value for every declared secret, in an encrypted store only its owner can read, ignored by git', async () => {
    const platform = buildPlatform(loadConfigFile(configFile));
    const { secrets: s, passwords } = await values();
    const declared = platform.secrets.filter((x) => x.generate !== 'manual').map((x) => x.name);
    expect(Object.keys(s).sort()).toEqual(declared.sort());
    expect(declared).toContain('PG_API_PASSWORD');
    expect(declared).toContain('API_SECRET_KEY');
    for (const secret of platform.secrets.filter((x) => x.generate !== 'manual')) expect(valueProblem(secret, s[secret.name] as string), secret.name).toBeUndefined();
    // A generated bcrypt hash has its password kept beside it; a hash of another secret does not.
    for (const secret of platform.secrets.filter((x) => x.generate === 'bcrypt')) {
      const hash = decodeBcrypt(s[secret.name] as string) as string;
      expect(hash.startsWith(`$2a$0${TEST_BCRYPT_COST}$`)).toBe(true);
      const password = secret.hashOf ? s[secret.hashOf] : passwords[secret.name];
      expect(bcrypt.compareSync(password as string, hash), secret.name).toBe(true);
    }
    expect(s.LITELLM_API_KEY).toMatch(/^sk-[0-9a-f]{48}$/);
    expect(s.NTFY_ALERTMANAGER_TOKEN).toMatch(/^tk_[a-z0-9]{29}$/);
    expect(s.PG_API_PASSWORD).toMatch(/^[0-9a-f]{32}$/);
    // URLs built from them parse and carry them unchanged.
    const url = new URL(`redis://default:${s.VALKEY_PASSWORD}@valkey:6379/0`);
    expect(url.password).toBe(s.VALKEY_PASSWORD);
    expect(new URL(`postgres://api:${s.PG_API_PASSWORD}@postgres:5432/api`).password).toBe(s.PG_API_PASSWORD);

    expect(statSync(storeFile).mode & 0o777).toBe(0o600);
    expect(statSync(identity).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'age')).mode & 0o777).toBe(0o700);
    expect(readFileSync(join(dir, '.gitignore'), 'utf8')).toBe('/platform.secrets.yaml\n');
    const text = readFileSync(storeFile, 'utf8');
    await expectNoValues(text, 'the store file');
    expect(text).toMatch(/^ {2}PG_API_PASSWORD: ENC\[AES256_GCM,data:/m);
    // The private key is never printed.
    const init = await secrets(['init', '--identity', identity]);
    expect(init.out).toMatch(/^exists: {2}.*keys\.txt \(mode 0600\)\npublic key: age1[a-z0-9]+\n$/);
    expect(init.out + init.err).not.toContain('AGE-SECRET-KEY');
  });

  it('the hashes users get: bcrypt cost 12, made by the same fillStore the CLI runs (which sets no cost)', async () => {
    const platform = buildPlatform(loadConfigFile(configFile));
    const { openStore } = await import('../lib/secrets/store.js');
    const { data } = await openStore(storeFile, { identity });
    // One hash missing with its password: the one value a run makes, at the default cost.
    const renewed = platform.secrets.find((x) => x.generate === 'bcrypt' && x.hashOf === undefined)?.name as string;
    data.secrets.delete(renewed);
    data.passwords.delete(renewed);
    const filled = fillStore(platform, data);
    expect(filled.added).toEqual([renewed]);
    const hash = decodeBcrypt(filled.data.secrets.get(renewed) as string) as string;
    expect(BCRYPT_COST).toBe(12);
    expect(hash.startsWith('$2a$12$')).toBe(true);
    expect(bcrypt.compareSync(filled.data.passwords.get(renewed) as string, hash)).toBe(true);
  });

  it('is idempotent: a second run keeps every byte of the store', async () => {
    const before = readFileSync(storeFile, 'utf8');
    const again = await secrets(withStore(['generate']));
    expect(again.code).toBe(0);
    expect(again.out).toContain('unchanged');
    expect(again.out).toContain('added: none');
    expect(readFileSync(storeFile, 'utf8')).toBe(before);
    expect(readFileSync(join(dir, '.gitignore'), 'utf8')).toMatch(/^\/platform\.secrets\.yaml\n/);
  });

  it('grows by the secrets of a new app only', async () => {
    const grownStore = join(dir, 'grown.secrets.yaml');
    writeFileSync(grownStore, readFileSync(storeFile));
    chmodSync(grownStore, 0o600);
    const grownConfig = join(dir, 'grown.yaml');
    writeFileSync(grownConfig, stringify(GROWN));
    const before = await values(grownStore);
    const run = await secrets(['generate', '--config', grownConfig, '--store', grownStore, '--identity', identity]);
    expect(run.code, run.err).toBe(0);
    expect(run.out).toContain('added: PG_WORKER_PASSWORD, WORKER_TOKEN\n');
    const after = await values(grownStore);
    expect(Object.keys(after.secrets).sort()).toEqual([...Object.keys(before.secrets), 'PG_WORKER_PASSWORD', 'WORKER_TOKEN'].sort());
    for (const [name, value] of Object.entries(before.secrets)) expect(after.secrets[name], name).toBe(value);
    await expectNoValues(run.out + run.err, 'generate output');
  });

  it('leaves a secret you supply to you, and takes it from standard input with set', async () => {
    const gated = join(dir, 'gated.yaml');
    writeFileSync(gated, stringify({ ...CONFIG, models: { comfyui: ['flux-dev'] } }));
    const store = join(dir, 'gated.secrets.yaml');
    const args = (cmd: string[]) => [...cmd, '--config', gated, '--store', store, '--identity', identity];
    writeFileSync(store, readFileSync(storeFile));
    const run = await secrets(args(['generate']));
    expect(run.out).toContain('supply yourself: platform secrets set HF_TOKEN');
    const check = await secrets(args(['check']));
    expect(check.code).toBe(1);
    expect(check.out).toContain('missing  HF_TOKEN');
    const set = await secrets(args(['set', 'HF_TOKEN']), 'hf_abcdefghijklmnop\n');
    expect(set.code, set.err).toBe(0);
    expect(set.out).not.toContain('hf_abc');
    expect((await values(store)).secrets.HF_TOKEN).toBe('hf_abcdefghijklmnop');
    expect((await secrets(args(['check']))).code).toBe(0);
  });

  it('--plain writes a plain YAML store (one box), 0600', async () => {
    const store = join(dir, 'plain.secrets.yaml');
    const run = await secrets(['generate', '--plain', '--config', configFile, '--store', store]);
    expect(run.code, run.err).toBe(0);
    expect(statSync(store).mode & 0o777).toBe(0o600);
    const doc = readYaml(readFileSync(store, 'utf8'));
    expect(doc.sops).toBeUndefined();
    expect(doc.secrets.PG_API_PASSWORD).toMatch(/^[0-9a-f]{32}$/);
    expect((await secrets(['check', '--config', configFile, '--store', store])).code).toBe(0);
  });
});

describe.skipIf(!toolAvailable('age'))('the store is SOPS with age: other tools open it', () => {
  it('the real age binary opens the data key; sops-age (an independent SOPS reader) decrypts every value; the MAC is SOPS\'s', async () => {
    const doc = readYaml(readFileSync(storeFile, 'utf8'));
    expect(Object.keys(doc)).toEqual(['secrets', 'passwords', 'sops']);
    expect(doc.sops).toMatchObject({ unencrypted_suffix: '_unencrypted', version: expect.stringMatching(/^3\./), lastmodified: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/) });
    const key = execFileSync('age', ['--decrypt', '--identity', identity], { input: doc.sops.age[0].enc });
    expect(key.length).toBe(32);
    const mine = await values();
    const theirs = (await sopsAgeDecrypt(readFileSync(storeFile, 'utf8'), { fileType: 'yaml', secretKey: readFileSync(identity, 'utf8').split('\n').find((l) => l.startsWith('AGE-SECRET-KEY')) })) as Record<string, Record<string, string>>;
    expect(theirs.secrets).toEqual(mine.secrets);
    expect(theirs.passwords ?? {}).toEqual(mine.passwords);
    // sops.go Tree.Encrypt: SHA-512 of the values in file order, upper-case hex, sealed with lastmodified as additional data.
    const { createDecipheriv, createHash } = await import('node:crypto');
    const m = /^ENC\[AES256_GCM,data:(.*),iv:(.*),tag:(.*),type:str\]$/.exec(doc.sops.mac) as RegExpExecArray;
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(m[2] as string, 'base64'));
    decipher.setAAD(Buffer.from(doc.sops.lastmodified));
    decipher.setAuthTag(Buffer.from(m[3] as string, 'base64'));
    const mac = Buffer.concat([decipher.update(Buffer.from(m[1] as string, 'base64')), decipher.final()]).toString();
    const hash = createHash('sha512');
    for (const v of [...Object.values(mine.secrets), ...Object.values(mine.passwords)]) hash.update(v);
    expect(mac).toBe(hash.digest('hex').toUpperCase());
  });
});

describe('bad input: one line, exit 2, nothing written', () => {
  const copyOf = (name: string, mutate: (text: string) => string) => {
    const path = join(dir, name);
    writeFileSync(path, mutate(readFileSync(storeFile, 'utf8')), { mode: 0o600 });
    return path;
  };
  const expectRefused = async (args: string[], message: RegExp, path?: string) => {
    const before = path && existsSync(path) ? readFileSync(path, 'utf8') : undefined;
    const run = await secrets(args);
    expect(run.code).toBe(2);
    expect(run.err.trim().split('\n')).toHaveLength(1);
    expect(run.err).toMatch(message);
    if (path && before !== undefined) expect(readFileSync(path, 'utf8')).toBe(before);
    return run;
  };

  it('an unknown secret name', async () => {
    await expectRefused(withStore(['rotate', 'NO_SUCH_SECRET']), /^error: unknown secret NO_SUCH_SECRET; declared: API_SECRET_KEY, /, storeFile);
    await expectRefused(withStore(['get', 'NO_SUCH_SECRET']), /unknown secret NO_SUCH_SECRET/);
  });

  it('a value changed by hand, a foreign or broken file, a wrong or missing identity', async () => {
    const tampered = copyOf('tampered.yaml', (t) => t.replace(/(PG_API_PASSWORD: ENC\[AES256_GCM,data:)(.)/, (_, a, c) => `${a}${c === 'A' ? 'B' : 'A'}`));
    await expectRefused(['generate', '--config', configFile, '--store', tampered, '--identity', identity], /cannot open the store .*tampered\.yaml: secrets\.PG_API_PASSWORD does not decrypt/, tampered);
    const foreign = join(dir, 'foreign.yaml');
    writeFileSync(foreign, 'apiVersion: v1\nkind: Secret\n');
    await expectRefused(['check', '--config', configFile, '--store', foreign, '--identity', identity], /foreign\.yaml is not a platform secrets store: unknown section "apiVersion"/, foreign);
    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, 'secrets: [unclosed\n');
    await expectRefused(['generate', '--config', configFile, '--store', broken, '--identity', identity], /broken\.yaml is not a platform secrets store: it is not YAML/, broken);
    const other = join(dir, 'other-key.txt');
    expect((await secrets(['init', '--identity', other])).code).toBe(0);
    await expectRefused(withStore(['check']).map((a) => (a === identity ? other : a)), /cannot open the store .*: none of its age recipients \(age1[a-z0-9]+\) is an identity of the key file/, storeFile);
    await expectRefused(withStore(['check']).map((a) => (a === identity ? join(dir, 'missing.txt') : a)), /no age identity at .*missing\.txt: run platform secrets init/);
    await expectRefused(['check', '--config', configFile, '--store', join(dir, 'none.yaml')], /no store at .*none\.yaml: run platform secrets generate first/);
  });

  it('rotating what its service reads only at first start, or what you supply', async () => {
    await expectRefused(withStore(['rotate', 'GRAFANA_PASSWORD']), /GRAFANA_PASSWORD is read only when its service first initialises its data/, storeFile);
    await expectRefused(withStore(['rotate', 'PG_PASSWORD']), /PG_PASSWORD is read only when/, storeFile);
  });
});

describe('check', () => {
  it('reports missing, invalid and extra secrets by name, never a value', async () => {
    const { secrets: s, passwords } = await values();
    const broken = join(dir, 'check.yaml');
    const data = { secrets: { ...s, EXTRA_THING: 'leftover-value-123', NTFY_ALERTMANAGER_TOKEN: 'tk_TOO-SHORT', COMFYUI_BASIC_AUTH_HASH: s.DNS_BASIC_AUTH_HASH }, passwords };
    delete (data.secrets as Record<string, string>).SEARXNG_SECRET;
    writeFileSync(broken, stringify(data), { mode: 0o600 });
    const run = await secrets(['check', '--config', configFile, '--store', broken]);
    expect(run.code).toBe(1);
    expect(run.out).toBe(
      [
        `${broken}: 1 missing, 2 invalid, 1 extra`,
        'missing  SEARXNG_SECRET',
        'invalid  COMFYUI_BASIC_AUTH_HASH: is not the hash of the password kept beside it',
        'invalid  NTFY_ALERTMANAGER_TOKEN: must be tk_ and 29 lower-case letters or digits',
        'extra    EXTRA_THING (not declared by the platform)',
        '',
      ].join('\n'),
    );
    for (const value of [...Object.values(data.secrets), ...Object.values(passwords)]) expect(run.out + run.err).not.toContain(value);
  });
});

describe('hand-over', () => {
  let out: string;
  beforeAll(async () => {
    out = join(dir, 'dist');
    await synthesize(loadConfigFile(configFile), { target: 'compose', flavor: 'plain', outDir: out });
  }, 60_000);

  it("plain Compose: each stack's .env (0600) holds exactly its variables, read back unchanged by Compose's parser", async () => {
    const run = await secrets(withStore(['env', '--out', out]));
    expect(run.code, run.err).toBe(0);
    const ignored = readFileSync(join(dir, '.gitignore'), 'utf8').split('\n');
    expect(ignored.filter((l) => l === '.env')).toHaveLength(1);
    expect((await secrets(withStore(['env', '--out', out]))).code).toBe(0);
    expect(readFileSync(join(dir, '.gitignore'), 'utf8').split('\n')).toEqual(ignored);
    await expectNoValues(run.out + run.err, 'env output');
    const tree = plainTree();
    const { secrets: s } = await values();
    const dirs = [...tree.files.keys()].filter((p) => p.endsWith('/.env.example')).map((p) => p.replace(/\/\.env\.example$/, ''));
    expect(dirs.length).toBeGreaterThan(3);
    for (const stack of dirs) {
      const file = join(out, 'compose', stack, '.env');
      expect(statSync(file).mode & 0o777, stack).toBe(0o600);
      const parsed = parseDotenv(readFileSync(file, 'utf8'));
      const wanted = [...(tree.files.get(`${stack}/.env.example`) as string).matchAll(/^([A-Z0-9_]+)=$/gm)].map((m) => m[1] as string);
      expect([...parsed.keys()].sort(), stack).toEqual(wanted.sort());
      for (const [name, value] of parsed) expect(value, name).toBe(s[name]);
    }
    // No value in the rendered tree; synth --check and diff never read a .env.
    const rendered = listFiles(join(out, 'compose'));
    expect(rendered.some((p) => p.endsWith('/.env'))).toBe(false);
    await expectNoValues(rendered.map((p) => readFileSync(join(out, 'compose', p), 'utf8')).join('\n'), 'dist/compose');
    expect(await checkOutput(loadConfigFile(configFile), { target: 'compose', flavor: 'plain', outDir: out })).toEqual([]);
    // A re-run of synth keeps each .env (unchanged tree: nothing swapped; changed tree: carried over, mode kept).
    const data = join(out, 'compose', 'homelab', 'data', '.env');
    const env = readFileSync(data, 'utf8');
    await synthesize(loadConfigFile(configFile), { target: 'compose', flavor: 'plain', outDir: out });
    expect(readFileSync(data, 'utf8')).toBe(env);
    await synthesize(loadConfigFile(configFile), { target: 'compose', flavor: 'coolify', outDir: out });
    expect(readFileSync(data, 'utf8')).toBe(env);
    expect(statSync(data).mode & 0o777).toBe(0o600);
    await synthesize(loadConfigFile(configFile), { target: 'compose', flavor: 'plain', outDir: out });
    expect(readFileSync(data, 'utf8')).toBe(env);
  });

  it('Coolify: names and how to paste by default; values only when asked, into a 0600 file', async () => {
    const names = await secrets(withStore(['coolify']));
    expect(names.code).toBe(0);
    expect(names.out).toContain('# homelab/data: Base Directory /dist/compose/homelab/data');
    expect(names.out).toContain('#   PG_API_PASSWORD');
    await expectNoValues(names.out + names.err, 'coolify output');
    expect((await secrets(withStore(['coolify', '--values']))).err).toMatch(/--values needs --out FILE/);
    const file = join(dir, 'coolify.env');
    const withValues = await secrets(withStore(['coolify', '--values', '--out', file]));
    expect(withValues.code).toBe(0);
    await expectNoValues(withValues.out + withValues.err, 'coolify --values log');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toContain(`PG_API_PASSWORD=${(await values()).secrets.PG_API_PASSWORD}\n`);
  });

  it('k3s: Secret manifests for kubectl; kubeseal with the controller\'s name, values on stdin only; a missing kubeseal is one line', async () => {
    const loaded = multus.loaded;
    const k3sConfig = join(dir, 'k3s.yaml');
    writeFileSync(k3sConfig, readFileSync(loaded.source.file));
    const store = join(dir, 'k3s.secrets.yaml');
    const args = (cmd: string[]) => [...cmd, '--config', k3sConfig, '--store', store, '--identity', identity];
    writeFileSync(store, readFileSync(storeFile), { mode: 0o600 });
    expect((await secrets(args(['generate']))).code).toBe(0);
    const listed = await secrets(args(['k3s', '--out', '-']));
    const docs = listed.out.split(/^---\n/m).filter(Boolean).map((d) => readYaml(d));
    const script = (await multus.tree()).files.get('secrets/create-secrets.sh') as string;
    const expected = [...script.matchAll(/^make_secret (\S+) (\S+) (\S+)$/gm)].map((m) => `${m[1]}/${m[2]}/${m[3]}`);
    expect(docs.map((d) => `${d.metadata.namespace}/${d.metadata.name}/${Object.keys(d.data)[0]}`).sort()).toEqual(expected.sort());
    const { secrets: s } = await values(store);
    for (const d of docs) expect(Buffer.from(Object.values(d.data)[0] as string, 'base64').toString(), d.metadata.name).toBe(s[Object.keys(d.data)[0] as string]);

    const bin = mkdtempSync(join(tmpdir(), 'kubeseal-'));
    const log = join(bin, 'calls');
    // A stand-in kubeseal: records its arguments, reads the Secret from stdin, prints a SealedSecret.
    // Shell builtins only (no cat, no sed): it runs once per Secret.
    writeFileSync(
      join(bin, 'kubeseal'),
      `#!/bin/sh\necho "$*" >> ${log}\nname=\nwhile IFS= read -r line; do case $line in '  name: '*) [ -z "$name" ] && name=\${line#'  name: '};; esac; done\nprintf 'apiVersion: bitnami.com/v1alpha1\\nkind: SealedSecret\\nmetadata:\\n  name: %s\\n' "$name"\n`,
      { mode: 0o755 },
    );
    try {
      const repo = join(dir, 'repo');
      mkdirSync(repo, { recursive: true });
      const sealed = await secrets(args(['k3s', '--seal', '--repo', repo]), '', { PATH: `${bin}:/usr/bin:/bin` });
      expect(sealed.code, sealed.err).toBe(0);
      const calls = readFileSync(log, 'utf8').trim().split('\n');
      expect(calls).toHaveLength(expected.length);
      for (const call of calls) expect(call).toBe(KUBESEAL_ARGS.join(' '));
      expect(KUBESEAL_ARGS.join(' ')).toBe('--format yaml --controller-name sealed-secrets-controller --controller-namespace kube-system');
      for (const value of Object.values(s)) expect(readFileSync(log, 'utf8')).not.toContain(value);
      const folder = join(repo, loaded.config.k3s.sealedSecretsPath as string);
      expect(readFileSync(join(folder, 'services-pg-password.yaml'), 'utf8')).toContain('kind: SealedSecret\nmetadata:\n  name: pg-password');
      const missing = await secrets(args(['k3s', '--seal', '--repo', repo]), '', { PATH: '/nonexistent' });
      expect(missing.code).toBe(2);
      expect(missing.err).toBe('error: kubeseal is not on PATH; install it, or write the Secrets with --out FILE\n');
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });

  it('rotate changes exactly the named values (and the hash made from them), redoes the .env files and says what restarts', async () => {
    const before = await values();
    const run = await secrets(withStore(['rotate', 'VALKEY_PASSWORD', 'NTFY_ADMIN_PASSWORD_HASH', '--out', out]));
    expect(run.code, run.err).toBe(0);
    const after = await values();
    const changed = Object.keys(after.secrets).filter((k) => after.secrets[k] !== before.secrets[k]);
    expect(changed.sort()).toEqual(['NTFY_ADMIN_PASSWORD_HASH', 'VALKEY_PASSWORD']);
    expect(after.passwords.NTFY_ADMIN_PASSWORD_HASH).not.toBe(before.passwords.NTFY_ADMIN_PASSWORD_HASH);
    expect(run.out).toContain('rotated: NTFY_ADMIN_PASSWORD_HASH, VALKEY_PASSWORD\n');
    expect(run.out).toMatch(/rewrote \d+ \.env files/);
    expect(run.out).toContain('  data: valkey\n');
    expect(run.out).toContain('kubectl -n services rollout restart statefulset/valkey');
    expect(run.out).toContain('kubectl -n monitoring rollout restart statefulset/ntfy');
    expect(readFileSync(join(out, 'compose', 'homelab', 'data', '.env'), 'utf8')).toContain(`VALKEY_PASSWORD=${after.secrets.VALKEY_PASSWORD}\n`);
    for (const v of [...Object.values(before.secrets), ...Object.values(after.secrets)]) expect(run.out + run.err).not.toContain(v);
    expect((await secrets(withStore(['check']))).code).toBe(0);
    // --all renews every generated secret its service reads on each start, and names what it leaves.
    const all = await secrets(withStore(['rotate', '--all', '--out', out]));
    expect(all.code, all.err).toBe(0);
    expect(all.out).toContain('left as they are (supplied by you, user names, or read only at first start): DNS_ADMIN_PASSWORD, GRAFANA_PASSWORD, MINIO_USER, OPEN_WEBUI_ADMIN_PASSWORD, PG_PASSWORD, PG_USER\n');
    const renewed = await values();
    expect(renewed.secrets.PG_API_PASSWORD).not.toBe(after.secrets.PG_API_PASSWORD);
    expect(renewed.secrets.PG_PASSWORD).toBe(after.secrets.PG_PASSWORD);
  }, 60_000);
});

describe.skipIf(!toolAvailable('caddy'))('a generated basic-auth hash logs in on a real Caddy', () => {
  it('the password kept beside it gets 200, another gets 401', async () => {
    const { secrets: s, passwords } = await values();
    const port = await freePort();
    const site = mkdtempSync(join(tmpdir(), 'caddy-auth-'));
    // The hash reaches Caddy as the rendered Caddyfile passes it: base64, from the environment.
    writeFileSync(join(site, 'Caddyfile'), `{\n\tadmin off\n\tauto_https off\n}\nhttp://127.0.0.1:${port} {\n\tbasicauth {\n\t\tadmin {$COMFYUI_BASIC_AUTH_HASH}\n\t}\n\trespond "ok"\n}\n`);
    const caddy = spawn('caddy', ['run', '--config', join(site, 'Caddyfile'), '--adapter', 'caddyfile'], { env: { ...process.env, COMFYUI_BASIC_AUTH_HASH: s.COMFYUI_BASIC_AUTH_HASH, HOME: site } });
    try {
      const status = async (password: string) => {
        for (let i = 0; i < 100; i++) {
          try {
            const reply = await fetch(`http://127.0.0.1:${port}/`, { headers: { authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` } });
            return reply.status;
          } catch {
            await new Promise((r) => setTimeout(r, 100));
          }
        }
        throw new Error('caddy did not start');
      };
      expect(await status(passwords.COMFYUI_BASIC_AUTH_HASH as string)).toBe(200);
      expect(await status('wrong-password')).toBe(401);
    } finally {
      caddy.kill();
      rmSync(site, { recursive: true, force: true });
    }
  }, 30_000);
});

describe.skipIf(!postgresAvailable())('rotating a database password on a real Postgres', () => {
  let cluster: TestCluster;
  afterAll(() => cluster?.stop());

  it('after rotate and a provisioning run the new password logs in and the old one does not', async () => {
    const tree = plainTree();
    const initial = await values();
    cluster = await startCluster(initial.secrets.PG_USER as string, initial.secrets.PG_PASSWORD as string);
    const scratch = mkdtempSync(join(tmpdir(), 'secrets-pg-'));
    const sql = join(scratch, 'provision.sql');
    writeFileSync(sql, tree.files.get('homelab/data/postgres-provision/provision.sql') as string);
    const job = tree.service('homelab/data', 'postgres-provision');
    /** The one-shot as Compose runs it: its rendered command and environment, `${NAME:?}` from the plain-Compose .env the hand-over wrote. */
    const provision = (env: Map<string, string>) => {
      const filled = Object.fromEntries(Object.entries(job.environment ?? {}).map(([k, v]) => [k, String(v).replace(/\$\{([A-Z0-9_]+):\?\}/g, (_, n: string) => env.get(n) ?? '')]));
      const command = (job.command as string[]).map((a) => (a === PROVISION_SQL_PATH ? sql : a));
      return spawnSync(command[0] as string, command.slice(1), { encoding: 'utf8', env: { PATH: cluster.path, ...filled, PGHOST: '127.0.0.1', PGPORT: String(cluster.port) } });
    };
    const out = join(dir, 'dist');
    const dataEnv = () => parseDotenv(readFileSync(join(out, 'compose', 'homelab', 'data', '.env'), 'utf8'));
    const login = (password: string) => cluster.psql({ PGUSER: 'api', PGPASSWORD: password, PGDATABASE: 'api' }, ['-c', 'SELECT current_user']);
    expect((await secrets(withStore(['env', '--out', out]))).code).toBe(0);
    const first = provision(dataEnv());
    expect(first.status, first.stderr).toBe(0);
    const old = (await values()).secrets.PG_API_PASSWORD as string;
    expect(login(old).stdout.trim()).toBe('api');

    const rotated = await secrets(withStore(['rotate', 'PG_API_PASSWORD', '--out', out]));
    expect(rotated.code, rotated.err).toBe(0);
    expect(rotated.out).toContain('  data: postgres-provision\n');
    const fresh = (await values()).secrets.PG_API_PASSWORD as string;
    expect(fresh).not.toBe(old);
    const second = provision(dataEnv());
    expect(second.status, second.stderr).toBe(0);
    expect(login(fresh).stdout.trim()).toBe('api');
    expect(login(old).stderr).toMatch(/password authentication failed for user "api"/);
    rmSync(scratch, { recursive: true, force: true });
  }, 120_000);
});

describe('the CLI', () => {
  it('passes `platform secrets ...` to its own commands; bad input is one line and exit 2', async () => {
    // In-process: the same main as the built command (a real process's exit status is cli.test.ts's).
    const help = await platformInProcess(['secrets', '--help']);
    expect(help.exitCode).toBe(0);
    for (const command of ['init', 'generate', 'set', 'check', 'get', 'env', 'coolify', 'k3s', 'rotate']) expect(help.stdout).toMatch(new RegExp(`^ {2}${command}\\b`, 'm'));
    const missing = await platformInProcess(['secrets', 'check', '--store', join(dir, 'none.yaml')]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toBe(`error: no store at ${join(dir, 'none.yaml')}: run platform secrets generate first`);
  });
});

describe('k3s: the sealed-secrets controller syncs first', () => {
  it('is a pinned Helm Application in the first wave, before every app whose pods read a Secret, and the bootstrap needs it', async () => {
    const t = await multus.tree();
    const controller = t.get('Application', 'argocd', 'sealed-secrets-controller');
    expect(controller.spec.source).toMatchObject({ repoURL: 'https://bitnami-labs.github.io/sealed-secrets', chart: 'sealed-secrets', targetRevision: '2.18.5' });
    expect(controller.spec.source.helm.valuesObject).toEqual({ fullnameOverride: 'sealed-secrets-controller' });
    expect(controller.spec.destination.namespace).toBe('kube-system');
    const wave = (a: { metadata: { annotations: Record<string, string> } }) => Number(a.metadata.annotations['argocd.argoproj.io/sync-wave']);
    const children = t.all('Application').filter((a) => a.metadata.name !== 'platform');
    expect(wave(controller)).toBe(Math.min(...children.map(wave)));
    const readers = new Set(
      t.objects
        .filter((o) => JSON.stringify(o).includes('"secretKeyRef"'))
        .map((o) => children.find((a) => a.spec.source.path && `${o.metadata.namespace}` && JSON.stringify(a.spec.source.path).length > 0 && t.files.has(`apps/${a.metadata.name}/${o.kind.toLowerCase()}-${o.metadata.namespace}-${o.metadata.name}.yaml`))?.metadata.name)
        .filter(Boolean),
    );
    expect(readers.size).toBeGreaterThan(3);
    for (const name of readers) expect(wave(children.find((a) => a.metadata.name === name)), name as string).toBeGreaterThan(wave(controller));
    const run = simulateBootstrap(t);
    expect(run.stuckAt).toBeUndefined();
    expect(run.apps[0]?.wave).toBe(wave(controller));
    // Without the controller, the SealedSecrets have no CRD and the root stops there.
    const without = simulateBootstrap({ ...t, all: (kind: string) => t.all(kind).filter((a) => a.metadata.name !== 'sealed-secrets-controller') });
    expect(without.stuckAt?.name).toBe('sealed-secrets');
    expect(without.stuckAt?.reasons[0]).toMatch(/no CRD for bitnami\.com\/SealedSecret/);
    // Unsealed Secrets are what the pods wait for: with the SealedSecrets app gone, the first stack that reads one stops.
    const unsealed = simulateBootstrap({ ...t, all: (kind: string) => t.all(kind).filter((a) => a.metadata.name !== 'sealed-secrets') });
    expect(unsealed.stuckAt?.reasons.join('\n')).toMatch(/CreateContainerConfigError: secret "[a-z0-9-]+" not found/);
  });
});
