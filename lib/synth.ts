import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildReferencePlatform } from '../stacks/reference.js';
import { synthCompose } from './compose/synth.js';
import type { ComposeFlavor } from './compose/service.js';
import type { ComposeUnit } from './compose/units.js';
import { ConfigError, ConfigIssues } from './config/errors.js';
import type { LoadedConfig } from './config/load.js';
import type { Platform } from './model/platform.js';
import { Ollama } from './services/ollama.js';
import type { Target } from './model/service.js';
import { FILE_MODE, listFiles, permissionBits, recoverTree, writeTree, type RenderedFile } from './output/writer.js';
import { checkPlatform, type Validation } from './validate/check.js';
import { toMermaid } from './graph/render.js';
import { readableTopology, type Topology } from './graph/topology.js';
import { compareText } from './output/order.js';

/** What `platform synth --target` accepts: one target, or both. */
export type SynthTarget = Target | 'all';
export const SYNTH_TARGETS: readonly SynthTarget[] = ['all', 'compose', 'k3s'];

export interface SynthOptions {
  readonly target: SynthTarget;
  readonly flavor: ComposeFlavor;
  /** Output root; each target writes into `<outDir>/<target>`. */
  readonly outDir: string;
}

/** One target's rendered tree. */
export interface TargetOutput {
  readonly target: Target;
  readonly files: readonly RenderedFile[];
  /** Compose files (compose target). */
  readonly units?: readonly ComposeUnit[];
  /** Kubernetes objects (k3s target). */
  readonly objects?: number;
  /** What this target does differently (GPU time-slicing on k3s). */
  readonly notes?: readonly string[];
}

/** The model rules found errors: nothing is written. */
export class ValidationFailed extends Error {
  constructor(readonly validation: Validation) {
    super(`${validation.errors} error(s) in ${validation.file}; nothing written`);
    this.name = 'ValidationFailed';
  }
}

export interface SynthResult {
  readonly platform: Platform;
  /** What `platform validate` says of the config (warnings only: errors stop the run). */
  readonly validation: Validation;
  readonly outputs: readonly TargetOutput[];
  readonly outDir: string;
  readonly elapsedMs: number;
}

/** Turn issues found while building or rendering into a ConfigError that points into the file. */
function withSource<T>(loaded: LoadedConfig, build: () => T): T {
  try {
    return build();
  } catch (err) {
    if (err instanceof ConfigIssues) throw new ConfigError(err.issues, loaded.source);
    throw err;
  }
}

/** Build the construct tree; placement problems come back as a ConfigError pointing into the file. */
export function buildPlatform(loaded: LoadedConfig): Platform {
  return withSource(loaded, () => buildReferencePlatform(loaded.config));
}

/** Render the Compose target in memory. */
export function render(loaded: LoadedConfig, flavor: ComposeFlavor): { platform: Platform; files: RenderedFile[]; units: readonly ComposeUnit[] } {
  const platform = buildPlatform(loaded);
  const { files, units } = synthCompose(platform, { flavor });
  return { platform, files, units };
}

/** The k3s renderer (charts/), loaded on first use: see renderK3s. */
async function k3sRenderer() {
  return await import('../charts/synth.js');
}

/**
 * Render the k3s target in memory. The k3s renderer is the cdk8s charts of `charts/`, which build on
 * lib/; this is the one place lib/ reaches them, through a lazy import, so cdk8s loads only when k3s
 * is asked for and nothing else in lib/ depends on charts/.
 */
export async function renderK3s(loaded: LoadedConfig, platform = buildPlatform(loaded)): Promise<{ platform: Platform; output: TargetOutput }> {
  const { synthK3s } = await k3sRenderer();
  const result = withSource(loaded, () => synthK3s(platform));
  return { platform, output: { target: 'k3s', files: result.files, objects: result.manifests.size, notes: result.notes } };
}

/**
 * The k3s target's own checks (zone quotas, VLANs), without rendering it: every config problem the
 * k3s renderer reports, it finds while it builds the cdk8s app (charts/synth.ts, buildK3sApp);
 * turning the app into manifests and YAML adds none. For `platform validate`.
 */
export async function checkK3s(loaded: LoadedConfig, platform: Platform): Promise<void> {
  const { buildK3sApp } = await k3sRenderer();
  withSource(loaded, () => buildK3sApp(platform));
}

/** Render every asked-for target in memory; nothing is written until all of them rendered. */
export async function renderTargets(
  loaded: LoadedConfig,
  target: SynthTarget,
  flavor: ComposeFlavor,
): Promise<{ platform: Platform; outputs: TargetOutput[]; validation: Validation }> {
  const platform = buildPlatform(loaded);
  const validation = checkPlatform(platform, loaded.source);
  if (validation.errors > 0) throw new ValidationFailed(validation);
  const outputs: TargetOutput[] = [];
  if (target === 'compose' || target === 'all') {
    const { files, units } = synthCompose(platform, { flavor });
    outputs.push({ target: 'compose', files, units });
  }
  if (target === 'k3s' || target === 'all') outputs.push((await renderK3s(loaded, platform)).output);
  const picture = readableTopology(platform, toMermaid);
  return { platform, outputs: outputs.map((o) => withTopology(o, picture.topology, picture.text)), validation };
}

/**
 * The topology beside each tree, and shown in its README (GitHub renders the Mermaid block). The
 * SVG is drawn only by `platform graph`: Graphviz layout grows faster than the platform does.
 */
function withTopology(output: TargetOutput, picture: Topology, mermaid: string): TargetOutput {
  const boxes = picture.zones.reduce((n, z) => n + z.services.length, 0);
  const coarse =
    picture.detail === 'services'
      ? ''
      : `\nOne box per ${picture.detail === 'stacks' ? 'stack within a zone' : 'zone'} (${boxes} boxes): a box per service would be past the size GitHub draws. \`platform graph --detail services --format svg --out topology.svg\` draws every service.\n`;
  const section = `\n## Topology\n\n\`\`\`mermaid\n${mermaid}\`\`\`\n${coarse}\n\`platform graph --format svg --out topology.svg\` draws it as a picture; \`--format dot\` gives the Graphviz source.\n`;
  const files = output.files.map((f) => (f.path === 'README.md' ? { ...f, content: `${f.content.trimEnd()}\n${section}` } : f));
  files.push({ path: 'topology.mmd', content: mermaid });
  return { ...output, files };
}

/** Render and write. Nothing is written when the config is invalid; each target folder is swapped in whole. */
export async function synthesize(loaded: LoadedConfig, options: SynthOptions, started = performance.now()): Promise<SynthResult> {
  const { platform, outputs, validation } = await renderTargets(loaded, options.target, options.flavor);
  for (const output of outputs) writeTree(options.outDir, output.target, output.files);
  return { platform, validation, outputs, outDir: options.outDir, elapsedMs: performance.now() - started };
}

/** A file whose committed copy differs from what the config renders now. */
export interface StaleFile {
  readonly path: string;
  /** `mode`: same bytes, but the permissions differ (a script that lost its executable bit). */
  readonly status: 'changed' | 'missing' | 'extra' | 'mode';
}

/**
 * Compare what would be written with what is on disk, byte for byte, without writing: for CI on
 * repositories that commit the output for ArgoCD.
 */
export async function checkOutput(loaded: LoadedConfig, options: SynthOptions): Promise<StaleFile[]> {
  const { outputs } = await renderTargets(loaded, options.target, options.flavor);
  const stale: StaleFile[] = [];
  for (const output of outputs) {
    const folder = join(options.outDir, output.target);
    recoverTree(options.outDir, output.target); // a swap killed between its two renames is finished first
    const rendered = new Set(output.files.map((f) => f.path));
    for (const file of output.files) {
      const onDisk = join(folder, file.path);
      if (!existsSync(onDisk)) stale.push({ path: `${output.target}/${file.path}`, status: 'missing' });
      else if (readFileSync(onDisk, 'utf8') !== file.content) stale.push({ path: `${output.target}/${file.path}`, status: 'changed' });
      else if (permissionBits(statSync(onDisk)) !== (file.mode ?? FILE_MODE)) stale.push({ path: `${output.target}/${file.path}`, status: 'mode' });
    }
    if (existsSync(folder)) {
      for (const path of listFiles(folder)) if (!rendered.has(path)) stale.push({ path: `${output.target}/${path}`, status: 'extra' });
    }
  }
  return stale.sort((a, b) => compareText(a.path, b.path));
}

/** The short summary `platform synth` prints. */
export function summarize(result: SynthResult, flavor: ComposeFlavor, configName: string): string {
  const { platform, outputs } = result;
  const nodes = [...platform.nodes.values()]
    .map((n) => `${n.name} (${n.deployed ? n.bindAddress : `${n.address}, external`}${n.hasGpu ? `, ${n.describeGpus()}` : ''})`)
    .join(', ');
  const services = platform.services;
  const gpu = services
    .filter((s) => s.gpu)
    .flatMap((s) => s.nodes.map((n) => `${s.name} -> ${n.name}${n.deployed ? ` GPU ${platform.gpuDevices(s, n).join('+')}` : ' (external)'}`));
  const cpu = services
    .filter((s): s is Ollama => s instanceof Ollama && s.cpuThreads !== undefined)
    .flatMap((s) => s.nodes.map((n) => `${s.name} -> ${n.name} CPU (${s.cpuThreads} threads)`));
  const lines = [
    `platform synth: ${outputs.map((o) => `${result.outDir}/${o.target}${o.target === 'compose' ? ` (${flavor})` : ''}`).join(', ')} for ${platform.domain} from ${configName}`,
    `  nodes:   ${nodes}`,
    `  stacks:  ${platform.stacks.length} stacks, ${services.length} services`,
    `  GPU:     ${gpu.length > 0 ? gpu.join('; ') : 'none'}`,
  ];
  if (cpu.length > 0) lines.push(`  CPU:     ${cpu.join('; ')}`);
  if (platform.leftOut.length > 0) {
    const byReason = new Map<string, string[]>();
    for (const { service, reason } of platform.leftOut) byReason.set(reason, [...(byReason.get(reason) ?? []), service]);
    const why = [...byReason].map(([reason, names]) => `${names.join(', ')} (${reason})`).join('; ');
    lines.push(`  left out: ${why}; a GPU node brings them back`);
  }
  for (const output of outputs) {
    const what = output.target === 'compose' ? `${output.units?.length ?? 0} compose files` : `${output.objects ?? 0} Kubernetes objects`;
    lines.push(`  ${`${output.target}:`.padEnd(8)} ${what}, ${output.files.length} files`);
    for (const note of output.notes ?? []) lines.push(`           note: ${note}`);
  }
  const { warnings } = result.validation;
  lines.push(`  checks:  no errors, ${warnings} warning${warnings === 1 ? '' : 's'}${warnings > 0 ? ' (platform validate shows them)' : ''}`);
  lines.push(`  wrote ${outputs.reduce((n, o) => n + o.files.length, 0)} files in ${Math.round(result.elapsedMs)} ms`);
  lines.push('next:');
  for (const output of outputs) {
    lines.push(
      output.target === 'compose'
        ? `  compose: read ${result.outDir}/compose/README.md (deploy order), run each node's networks.sh, fill each stack's .env.example, deploy`
        : `  k3s:     read ${result.outDir}/k3s/README.md, create the secrets (${result.outDir}/k3s/secrets/create-secrets.sh), commit, kubectl apply -f ${result.outDir}/k3s/argocd/root.yaml`,
    );
  }
  return lines.join('\n');
}
