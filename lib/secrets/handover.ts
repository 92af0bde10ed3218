import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { UsageError } from '../config/errors.js';
import { secretUsage, composeUnits, unitSecrets, type ComposeUnit } from '../compose/units.js';
import { BACKUP_STACK, backupSecrets } from '../compose/backup.js';
import { backupPlan, type BackupPlan } from '../services/backup.js';
import { magicVariable } from '../compose/service.js';
import { SEALED_SECRETS_CONTROLLER, secretObjectName } from '../k3s/names.js';
import { k3sSecrets, secretManifest } from '../k3s/secrets.js';
import type { Platform } from '../model/platform.js';
import type { Secret } from '../model/secret.js';
import type { Service } from '../model/service.js';
import { describeOsError } from '../output/writer.js';
import { gitRoot, ignorePattern, writeFileAtomic, type StoreData } from './store.js';

/** A value for a `.env` line that Compose reads back unchanged: bare when safe, else single-quoted (no interpolation). */
export function dotenvValue(name: string, value: string): string {
  if (/^[A-Za-z0-9_+/=.:@%,-]*$/.test(value)) return value;
  if (!value.includes("'") && !/[\n\r]/.test(value)) return `'${value}'`;
  throw new UsageError(`${name} holds a single quote or a line break, which a Compose .env file cannot carry; give it another value with platform secrets set ${name}`);
}

function valueOf(data: StoreData, secret: Secret): string {
  const value = data.secrets.get(secret.name);
  if (value === undefined) {
    throw new UsageError(
      secret.generate === 'manual'
        ? `${secret.name} has no value: supply it with platform secrets set ${secret.name}`
        : `${secret.name} has no value: run platform secrets generate first`,
    );
  }
  return value;
}

/** Each plain-Compose stack's `.env`: `<node>/<stack>/.env` -> its text (the stack's variables, no others). */
export function composeEnvFiles(platform: Platform, data: StoreData): { path: string; content: string; names: string[] }[] {
  const stacks = composeUnits(platform).map((unit) => ({ name: unit.name, node: unit.node.name, dir: unit.dir, secrets: unitSecrets(unit) }));
  // The backup stack of each node (rendered beside the model's stacks, lib/compose/backup.ts).
  const plan = backupPlan(platform);
  for (const backup of plan?.nodes ?? []) {
    stacks.push({ name: BACKUP_STACK, node: backup.node.name, dir: `${backup.node.name}/${BACKUP_STACK}`, secrets: backupSecrets(plan as BackupPlan, backup) });
  }
  return stacks.map(({ name, node, dir, secrets }) => {
    const lines = [`# Variables of stack ${name} on node ${node}, written by platform secrets env. Never commit this file.`];
    for (const secret of secrets) lines.push(`${secret.name}=${dotenvValue(secret.name, valueOf(data, secret))}`);
    return { path: `${dir}/.env`, content: `${lines.join('\n')}\n`, names: secrets.map((s) => s.name) };
  });
}

/**
 * Write the `.env` of every stack into the rendered plain-Compose tree (`<out>/compose/<node>/<stack>/`),
 * each 0600 and atomically. The tree must be rendered first: a stack folder that is missing is an error.
 */
export function writeComposeEnv(platform: Platform, data: StoreData, outDir: string): string[] {
  const files = composeEnvFiles(platform, data);
  const root = join(outDir, 'compose');
  const missing = files.map((f) => f.path.replace(/\/\.env$/, '')).filter((dir) => !existsSync(join(root, dir)));
  if (missing.length > 0) throw new UsageError(`${join(root, missing[0] as string)} does not exist: run platform synth --flavor plain --out ${outDir} first`);
  // The rendered tree is committed (Coolify and ArgoCD read it from git): its .env files never are.
  ignorePattern(gitRoot(outDir) ?? outDir, '.env');
  for (const file of files) writeFileAtomic(join(root, file.path), file.content);
  return files.map((f) => join(root, f.path));
}

/** The Coolify applications and the variables each needs (magic ones, which Coolify makes, left out). */
export function coolifyStacks(platform: Platform): { unit: ComposeUnit; secrets: Secret[] }[] {
  const units = composeUnits(platform, { splitProfiles: true });
  const usage = secretUsage(units);
  const magic = platform.config.coolify.magicSecrets;
  return units.map((unit) => ({
    unit,
    secrets: unitSecrets(unit).filter((s) => !(magic && magicVariable(s) && usage.get(s.name)?.size === 1)),
  }));
}

/**
 * What to paste into Coolify, per application: its Base Directory and variable names, and with
 * `values` the `NAME=value` lines for Environment Variables > Developer view.
 */
export function coolifyHandover(platform: Platform, data: StoreData | undefined): string {
  const out: string[] = [
    '# Coolify: for each application (Base Directory below), open Environment Variables > Developer view,',
    '# paste its lines, Save, then Redeploy. Generated values hold no $, so Interpolation stays as it is.',
    '',
  ];
  for (const { unit, secrets } of coolifyStacks(platform)) {
    out.push(`# ${unit.dir}: Base Directory /dist/compose/${unit.dir}`);
    if (secrets.length === 0) out.push('#   no variables');
    for (const secret of secrets) {
      if (!data) {
        out.push(`#   ${secret.name}`);
        continue;
      }
      const value = valueOf(data, secret);
      // Coolify expands `$` in a variable unless its Interpolation is Literal (see coolify-literal-secret).
      if (value.includes('$')) out.push(`# ${secret.name} holds a $: after pasting, set its Interpolation to Literal`);
      out.push(`${secret.name}=${value}`);
    }
    out.push('');
  }
  if (!data) out.push('# Values: platform secrets coolify --values --out FILE (a file only you can read), or --out - for standard output.', '');
  return out.join('\n');
}

/** The Kubernetes Secrets of the k3s target with their values, as `kubectl apply -f -` reads them. */
export function k3sSecretManifests(platform: Platform, data: StoreData): { namespace: string; name: string; manifest: string }[] {
  return k3sSecrets(platform).map(({ namespace, secret }) => {
    const name = secretObjectName(secret);
    // The layout create-secrets.sh prints, so either way of making the Secrets gives the same bytes.
    const manifest = secretManifest({ namespace, name, key: secret.name, data: Buffer.from(valueOf(data, secret), 'utf8').toString('base64') });
    return { namespace, name, manifest };
  });
}

/** How kubeseal is run: the controller the `sealed-secrets-controller` Application installs. */
export const KUBESEAL_ARGS = ['--format', 'yaml', '--controller-name', SEALED_SECRETS_CONTROLLER.name, '--controller-namespace', SEALED_SECRETS_CONTROLLER.namespace] as const;

async function run(command: string, args: readonly string[], input: string, env: NodeJS.ProcessEnv): Promise<string> {
  const result = await execa(command, args, { input, reject: false, stripFinalNewline: false, env, extendEnv: false });
  if ((result as { code?: string }).code === 'ENOENT') {
    throw new UsageError(`${command} is not on PATH; install it, or write the Secrets with --out FILE`);
  }
  if (result.exitCode !== 0) {
    throw new UsageError(`${command} ${args.join(' ')} failed (exit ${result.exitCode}): ${String(result.stderr).trim().split('\n')[0] ?? ''}`);
  }
  return String(result.stdout);
}

/** Apply every Secret with `kubectl apply -f -`: the values go through its standard input, never its arguments. */
export async function applyK3sSecrets(manifests: readonly { manifest: string }[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  await run('kubectl', ['apply', '-f', '-'], manifests.map((m) => `---\n${m.manifest}`).join(''), env);
}

/**
 * Seal each Secret with kubeseal (standard input to standard output) into
 * `<repoRoot>/<k3s.sealedSecretsPath>/<namespace>-<name>.yaml`, the folder the `sealed-secrets`
 * Application syncs. Sealed files are safe to commit (only the controller's key opens them).
 */
export async function sealK3sSecrets(
  platform: Platform,
  manifests: readonly { namespace: string; name: string; manifest: string }[],
  repoRoot: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string[]> {
  const sealedPath = platform.config.k3s.sealedSecretsPath;
  if (!sealedPath) throw new UsageError('k3s.sealedSecretsPath is not set in the config: set it to the folder the sealed Secrets are committed to');
  const folder = join(repoRoot, sealedPath);
  try {
    mkdirSync(folder, { recursive: true });
    if (!statSync(folder).isDirectory()) throw new UsageError(`${folder} is not a folder`);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot create ${folder}: ${describeOsError(err) ?? (err as Error).message}`);
  }
  const sealed: { path: string; content: string }[] = [];
  for (const m of manifests) sealed.push({ path: join(folder, `${m.namespace}-${m.name}.yaml`), content: await run('kubeseal', KUBESEAL_ARGS, m.manifest, env) });
  // Every file is sealed before the first is written: a failure leaves the folder as it was.
  for (const s of sealed) writeFileAtomic(s.path, s.content, 0o644);
  return sealed.map((s) => s.path);
}

/** Services that read any of `names`, by stack: what must restart after a rotation. */
export function readersOf(platform: Platform, names: ReadonlySet<string>): Service[] {
  return platform.services.filter((s) => !s.external && s.secrets.some((secret) => names.has(secret.name)));
}
