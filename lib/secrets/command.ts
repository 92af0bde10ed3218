/**
 * `platform secrets ...`: the secrets lifecycle. Loaded only when that command runs, so synth
 * never loads age, bcrypt or the hand-over code.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Command } from 'commander';
import { UsageError } from '../config/errors.js';
import { loadConfigFile, referenceConfig } from '../config/load.js';
import type { Platform } from '../model/platform.js';
import { buildPlatform } from '../synth.js';
import { applyK3sSecrets, coolifyHandover, coolifyStacks, k3sSecretManifests, readersOf, sealK3sSecrets, writeComposeEnv } from './handover.js';
import { checkStore, declaredSecret, fillStore, rotatable } from './lifecycle.js';
import { valueProblem } from './rules.js';
import { DEFAULT_STORE, ensureIdentity, gitRoot, identityPath, openStore, saveStore, writeFileAtomic, type OpenStore, type StoreData } from './store.js';

/** Where output goes: the process's streams, or a test's. */
export interface SecretsIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** Standard input, for `set` (read once). */
  readonly stdin: () => Promise<string>;
  readonly cwd: string;
  /** Where a finding's exit code goes (`check`: 1). @default the process's exit code */
  readonly setExitCode?: (code: number) => void;
  /**
   * bcrypt cost of the hashes `generate`, `set` and `rotate` make. The CLI never sets it; the test
   * suite lowers it, since each hash at the real cost is a quarter of a second of CPU.
   * @default BCRYPT_COST (lib/secrets/rules.ts)
   */
  readonly bcryptCost?: number;
  /** The environment kubectl and kubeseal run with (PATH finds them). @default the process's environment */
  readonly env?: NodeJS.ProcessEnv;
}

interface CommonOptions {
  config?: string;
  store?: string;
  identity?: string;
}

function platformOf(opts: CommonOptions): Platform {
  return buildPlatform(opts.config === undefined ? referenceConfig() : loadConfigFile(opts.config));
}

function storePath(opts: CommonOptions, io: SecretsIo): string {
  if (opts.store !== undefined) return opts.store;
  return join(opts.config === undefined ? io.cwd : dirname(opts.config), DEFAULT_STORE);
}

/** The recipients a store is written to: its own, or (new store) the identity's public key, made on first use. */
async function recipientsFor(store: OpenStore, opts: CommonOptions, io: SecretsIo): Promise<string[]> {
  if (store.format === 'plain') return [];
  if (store.recipients.length > 0) return [...store.recipients];
  const path = identityPath(opts.identity);
  const { recipient, created } = await ensureIdentity(path);
  if (created) io.err(`created the age identity ${path} (public key ${recipient}); keep a copy of it somewhere safe: without it the store cannot be opened\n`);
  return [recipient];
}

async function openExisting(opts: CommonOptions, io: SecretsIo): Promise<OpenStore> {
  const store = await openStore(storePath(opts, io), { identity: opts.identity });
  if (store.created) throw new UsageError(`no store at ${store.path}: run platform secrets generate first`);
  return store;
}

function list(names: readonly string[]): string {
  return names.length > 0 ? names.join(', ') : 'none';
}

const sameData = (a: StoreData, b: StoreData) =>
  a.secrets.size === b.secrets.size && a.passwords.size === b.passwords.size &&
  [...a.secrets].every(([k, v]) => b.secrets.get(k) === v) && [...a.passwords].every(([k, v]) => b.passwords.get(k) === v);

/** The `.env` files an earlier `platform secrets env` wrote under `<out>/compose`: rotation rewrites them. */
function envFilesPresent(outDir: string): boolean {
  const root = join(outDir, 'compose');
  if (!existsSync(root)) return false;
  for (const node of readdirSync(root, { withFileTypes: true })) {
    if (!node.isDirectory()) continue;
    for (const stack of readdirSync(join(root, node.name), { withFileTypes: true })) {
      if (stack.isDirectory() && existsSync(join(root, node.name, stack.name, '.env'))) return true;
    }
  }
  return false;
}

/** Write text the user asked for to a file of theirs (0600) or, with `-`, standard output. */
function deliver(text: string, out: string, io: SecretsIo, what: string): void {
  if (out === '-') {
    io.out(text);
    return;
  }
  writeFileAtomic(out, text);
  io.err(`wrote ${what} to ${out} (mode 0600)\n`);
}

export function secretsProgram(io: SecretsIo): Command {
  const program = new Command('platform secrets')
    .description('The secrets lifecycle: generate, check, rotate, and hand over to each target. Values are printed only where a command says so.')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError();
  const common = (c: Command) =>
    c
      .option('-c, --config <file>', 'platform.yaml (default: the embedded reference platform)')
      .option('-s, --store <file>', `the store (default: ${DEFAULT_STORE} beside the config, or in the working folder)`)
      .option('-i, --identity <file>', 'age key file (default: $SOPS_AGE_KEY_FILE, else ~/.config/sops/age/keys.txt)');

  program
    .command('init')
    .description('Create the age identity the store is encrypted to (when there is none) and print its public key.')
    .option('-i, --identity <file>', 'age key file (default: $SOPS_AGE_KEY_FILE, else ~/.config/sops/age/keys.txt)')
    .action(async (opts: { identity?: string }) => {
      const path = identityPath(opts.identity);
      const { recipient, created } = await ensureIdentity(path);
      io.out(`${created ? 'created' : 'exists: '} ${path} (mode 0600)\npublic key: ${recipient}\n`);
    });

  common(program.command('generate'))
    .description('Give every declared secret a value by its rule; existing values are kept.')
    .option('--plain', 'a new store in plain YAML instead of age-encrypted SOPS (one box, disk you trust)')
    .action(async (opts: CommonOptions & { plain?: boolean }) => {
      const platform = platformOf(opts);
      const store = await openStore(storePath(opts, io), { identity: opts.identity, plain: opts.plain });
      const result = fillStore(platform, store.data, new Set(), { bcryptCost: io.bcryptCost });
      const recipients = await recipientsFor(store, opts, io);
      if (store.created || result.added.length > 0) await saveStore(store, result.data, recipients);
      const kind = store.format === 'sops' ? `SOPS, age: ${recipients.join(', ')}` : 'plain';
      io.out(`${store.created ? 'created' : result.added.length > 0 ? 'updated' : 'unchanged'} ${store.path} (${kind}; mode 0600)\n`);
      io.out(`added: ${list(result.added)}\n`);
      if (result.manualMissing.length > 0) io.out(`supply yourself: ${result.manualMissing.map((n) => `platform secrets set ${n}`).join('; ')}\n`);
    });

  common(program.command('set'))
    .description('Store a value you supply (a token from elsewhere), read from standard input: never from the command line.')
    .argument('<name>', 'the secret')
    .action(async (name: string, opts: CommonOptions) => {
      const platform = platformOf(opts);
      const secret = declaredSecret(platform, name);
      const value = (await io.stdin()).replace(/\r?\n$/, '');
      const problem = valueProblem(secret, value);
      if (problem) throw new UsageError(`${name}: the value from standard input ${problem}`);
      if (secret.generate === 'bcrypt') throw new UsageError(`${name} is a bcrypt hash made from its password: rotate it instead`);
      const store = await openStore(storePath(opts, io), { identity: opts.identity });
      const data = { secrets: new Map(store.data.secrets), passwords: new Map(store.data.passwords) };
      data.secrets.set(name, value);
      // A hash made from this password follows it.
      const filled = fillStore(platform, data, new Set(), { bcryptCost: io.bcryptCost });
      await saveStore(store, filled.data, await recipientsFor(store, opts, io));
      const follows = [...filled.added, ...filled.rotated].sort();
      io.out(`set ${name} in ${store.path}${follows.length > 0 ? `; also made: ${list(follows)}` : ''}\n`);
    });

  common(program.command('check'))
    .description('Every declared secret has a value that satisfies its rule; names missing, invalid and extra ones (never values).')
    .action(async (opts: CommonOptions) => {
      const platform = platformOf(opts);
      const store = await openExisting(opts, io);
      const { missing, invalid, extra } = checkStore(platform, store.data);
      const lines = [
        ...missing.map((n) => `missing  ${n}`),
        ...invalid.map((i) => `invalid  ${i.name}: ${i.problem}`),
        ...extra.map((n) => `extra    ${n} (not declared by the platform)`),
      ];
      if (missing.length + invalid.length === 0) {
        io.out(`${store.path}: all ${platform.secrets.length} secrets valid${extra.length > 0 ? `; ${extra.length} extra` : ''}\n${lines.join('\n')}${lines.length > 0 ? '\n' : ''}`);
        return;
      }
      io.out(`${store.path}: ${missing.length} missing, ${invalid.length} invalid, ${extra.length} extra\n${lines.join('\n')}\n`);
      (io.setExitCode ?? ((code: number) => (process.exitCode = code)))(1);
    });

  common(program.command('get'))
    .description('Print one value to standard output (to log in, or for a tool of yours). Asked for by name only.')
    .argument('<name>', 'the secret')
    .option('--password', 'for a bcrypt hash: the password it is the hash of (what you log in with)')
    .action(async (name: string, opts: CommonOptions & { password?: boolean }) => {
      const secret = declaredSecret(platformOf(opts), name);
      const store = await openExisting(opts, io);
      const value = opts.password
        ? secret.generate === 'bcrypt'
          ? (secret.hashOf !== undefined ? store.data.secrets.get(secret.hashOf) : store.data.passwords.get(name))
          : undefined
        : store.data.secrets.get(name);
      if (opts.password && secret.generate !== 'bcrypt') throw new UsageError(`${name} is not a bcrypt hash; --password applies to hashes`);
      if (value === undefined) throw new UsageError(`${name} has no value in ${store.path}`);
      io.out(`${value}\n`);
    });

  common(program.command('env'))
    .description("Write each plain-Compose stack's .env (mode 0600) into the rendered tree.")
    .option('-o, --out <dir>', 'the folder synth wrote (its compose/ tree)', 'dist')
    .action(async (opts: CommonOptions & { out: string }) => {
      const platform = platformOf(opts);
      const store = await openExisting(opts, io);
      const written = writeComposeEnv(platform, store.data, opts.out);
      io.out(`wrote ${written.length} .env files (mode 0600) under ${join(opts.out, 'compose')}; then docker compose up -d in each stack\n`);
    });

  common(program.command('coolify'))
    .description('What each Coolify application needs: variable names and how to paste them; values only with --values.')
    .option('--values', 'include the values, as NAME=value lines for Developer view')
    .option('-o, --out <file>', 'with --values: a file to write (mode 0600), or - for standard output')
    .action(async (opts: CommonOptions & { values?: boolean; out?: string }) => {
      const platform = platformOf(opts);
      if (!opts.values) {
        io.out(coolifyHandover(platform, undefined));
        return;
      }
      if (opts.out === undefined) throw new UsageError('--values needs --out FILE (written mode 0600) or --out - (standard output)');
      const store = await openExisting(opts, io);
      deliver(coolifyHandover(platform, store.data), opts.out, io, 'the Coolify variables');
    });

  common(program.command('k3s'))
    .description('The k3s Secrets from the store: apply them with kubectl, seal them with kubeseal into k3s.sealedSecretsPath, or write the manifests.')
    .option('--apply', 'kubectl apply -f - (values on its standard input)')
    .option('--seal', 'kubeseal each into k3s.sealedSecretsPath at the repository root, to commit')
    .option('-o, --out <file>', 'write the Secret manifests to a file (mode 0600), or - for standard output')
    .option('--repo <dir>', 'repository root for --seal (default: the git repository of the config, or the working folder)')
    .action(async (opts: CommonOptions & { apply?: boolean; seal?: boolean; out?: string; repo?: string }) => {
      const chosen = [opts.apply, opts.seal, opts.out !== undefined].filter(Boolean).length;
      if (chosen !== 1) throw new UsageError('choose one of --apply, --seal or --out FILE');
      const platform = platformOf(opts);
      const store = await openExisting(opts, io);
      const manifests = k3sSecretManifests(platform, store.data);
      if (opts.out !== undefined) {
        deliver(manifests.map((m) => `---\n${m.manifest}`).join(''), opts.out, io, `${manifests.length} Secrets`);
      } else if (opts.apply) {
        await applyK3sSecrets(manifests, io.env);
        io.out(`applied ${manifests.length} Secrets with kubectl\n`);
      } else {
        const root = opts.repo ?? gitRoot(opts.config === undefined ? io.cwd : dirname(opts.config)) ?? io.cwd;
        const paths = await sealK3sSecrets(platform, manifests, root, io.env);
        io.out(`sealed ${paths.length} Secrets into ${join(root, platform.config.k3s.sealedSecretsPath ?? '')}: commit them\n`);
      }
    });

  common(program.command('rotate'))
    .description('New values for the named secrets (or --all), the store updated, the hand-over redone; says what must restart.')
    .argument('[names...]', 'secrets to rotate')
    .option('--all', 'every generated secret its service reads on each start')
    .option('-o, --out <dir>', 'the rendered tree whose plain-Compose .env files are rewritten', 'dist')
    .option('--apply', 'k3s: kubectl apply the Secrets afterwards')
    .option('--seal', 'k3s: kubeseal the Secrets into k3s.sealedSecretsPath afterwards')
    .option('--repo <dir>', 'repository root for --seal')
    .action(async (names: string[], opts: CommonOptions & { all?: boolean; out: string; apply?: boolean; seal?: boolean; repo?: string }) => {
      if (opts.all === (names.length > 0)) throw new UsageError('name the secrets to rotate, or give --all (not both)');
      const platform = platformOf(opts);
      const { rotate, left } = rotatable(platform);
      const chosen = opts.all ? rotate : names;
      for (const name of chosen) declaredSecret(platform, name);
      const store = await openExisting(opts, io);
      const result = fillStore(platform, store.data, new Set(chosen), { bcryptCost: io.bcryptCost });
      // Everything is computed before anything is written.
      const manifests = opts.apply || opts.seal ? k3sSecretManifests(platform, result.data) : [];
      await saveStore(store, result.data, await recipientsFor(store, opts, io));
      const changed = new Set([...result.rotated, ...result.added]);
      io.out(`rotated: ${list(result.rotated)}\n`);
      if (opts.all && left.length > 0) io.out(`left as they are (supplied by you, user names, or read only at first start): ${list(left)}\n`);
      if (envFilesPresent(opts.out)) {
        const written = writeComposeEnv(platform, result.data, opts.out);
        io.out(`rewrote ${written.length} .env files under ${join(opts.out, 'compose')}\n`);
      }
      if (opts.apply) await applyK3sSecrets(manifests, io.env);
      if (opts.seal) await sealK3sSecrets(platform, manifests, opts.repo ?? gitRoot(opts.config === undefined ? io.cwd : dirname(opts.config)) ?? io.cwd, io.env);
      io.out(await restartAdvice(platform, changed));
    });

  return program;
}

/** Which services read a changed secret, and how each target brings them onto the new values. */
export async function restartAdvice(platform: Platform, changed: ReadonlySet<string>): Promise<string> {
  // The workload kinds (no cdk8s in that module): loaded only here.
  const { workloadKind } = await import('../k3s/workload-kind.js');
  const readers = readersOf(platform, changed);
  if (readers.length === 0) return 'no service reads them\n';
  const byStack = new Map<string, string[]>();
  for (const s of readers) byStack.set(s.stackName, [...(byStack.get(s.stackName) ?? []), s.name]);
  const order = platform.stackOrder().map((s) => s.name).filter((n) => byStack.has(n));
  // The provisioning one-shot reads every role password: when it is among the readers, a database password changed.
  const database = readers.some((s) => s.oneShot && s.secrets.some((x) => changed.has(x.name) && /^PG_.+_PASSWORD$/.test(x.name)));
  const lines = [`restart (deploy in this order${database ? '; the Postgres provisioning re-applies role passwords when its stack deploys' : ''}):`];
  for (const stack of order) lines.push(`  ${stack}: ${(byStack.get(stack) ?? []).join(', ')}`);
  lines.push(
    '  plain Compose: docker compose up -d in each of those stacks (recreates the containers whose variables changed, runs postgres-provision again)',
    `  Coolify: paste the new values (platform secrets coolify --values --out FILE) into ${coolifyStacks(platform)
      .filter(({ secrets }) => secrets.some((s) => changed.has(s.name)))
      .map(({ unit }) => unit.dir)
      .join(', ')}, then Redeploy each`,
    `  k3s: after the Secrets changed (--apply, or --seal and a commit)${database ? ', sync the app of postgres (its PostSync job re-applies role passwords)' : ''}, then:`,
  );
  for (const s of readers) {
    const kind = workloadKind(s);
    // A hook Job runs again on the next sync; only long-running workloads are restarted.
    if (kind !== 'Job') lines.push(`    kubectl -n ${s.zone.namespace} rollout restart ${kind.toLowerCase()}/${s.name}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Run `platform secrets` with `argv` (what follows `secrets` on the command line). */
export async function runSecrets(
  argv: readonly string[],
  cli: { readonly stdout: { write(text: string): unknown }; readonly stderr: { write(text: string): unknown } } = process,
  setExitCode?: (code: number) => void,
): Promise<void> {
  const io: SecretsIo = {
    out: (t) => void cli.stdout.write(t),
    err: (t) => void cli.stderr.write(t),
    stdin: async () => {
      if (process.stdin.isTTY) cli.stderr.write('value (end with Ctrl-D): ');
      return readFileSync(0, 'utf8');
    },
    cwd: process.cwd(),
    setExitCode,
  };
  await secretsProgram(io).parseAsync([...argv], { from: 'user' });
}
