import { performance } from 'node:perf_hooks';
import { buildReferencePlatform } from '../stacks/reference.js';
import { synthCompose } from './compose/synth.js';
import type { ComposeFlavor } from './compose/service.js';
import type { ComposeUnit } from './compose/units.js';
import { ConfigError, ConfigIssues } from './config/errors.js';
import type { LoadedConfig } from './config/load.js';
import type { Platform } from './model/platform.js';
import { writeTree, type RenderedFile } from './output/writer.js';

export type SynthTarget = 'compose';

export interface SynthOptions {
  readonly target: SynthTarget;
  readonly flavor: ComposeFlavor;
  /** Output root; the target writes into `<outDir>/<target>`. */
  readonly outDir: string;
}

export interface SynthResult {
  readonly platform: Platform;
  readonly files: readonly RenderedFile[];
  readonly units: readonly ComposeUnit[];
  readonly outputPath: string;
  readonly elapsedMs: number;
}

/** Build the construct tree; placement problems come back as a ConfigError pointing into the file. */
export function buildPlatform(loaded: LoadedConfig): Platform {
  try {
    return buildReferencePlatform(loaded.config);
  } catch (err) {
    if (err instanceof ConfigIssues) throw new ConfigError(err.issues, loaded.source);
    throw err;
  }
}

/** Render the target in memory. */
export function render(loaded: LoadedConfig, flavor: ComposeFlavor): { platform: Platform; files: RenderedFile[]; units: readonly ComposeUnit[] } {
  const platform = buildPlatform(loaded);
  const { files, units } = synthCompose(platform, { flavor });
  return { platform, files, units };
}

/** Render and write atomically. Nothing is written when the config is invalid. */
export function synthesize(loaded: LoadedConfig, options: SynthOptions, started = performance.now()): SynthResult {
  const { platform, files, units } = render(loaded, options.flavor);
  writeTree(options.outDir, options.target, files);
  return { platform, files, units, outputPath: `${options.outDir}/${options.target}`, elapsedMs: performance.now() - started };
}

/** The short summary `platform synth` prints. */
export function summarize(result: SynthResult, flavor: ComposeFlavor, configName: string): string {
  const { platform, units } = result;
  const nodes = [...platform.nodes.values()]
    .map((n) => `${n.name} (${n.deployed ? n.bindAddress : `${n.address}, external`}${n.hasGpu ? `, ${n.describeGpus()}` : ''})`)
    .join(', ');
  const stacks = new Set(units.map((u) => u.stack.name));
  const services = platform.services;
  const gpu = services
    .filter((s) => s.gpu)
    .flatMap((s) => s.nodes.map((n) => `${s.name} -> ${n.name}${n.deployed ? ` GPU ${platform.gpuDevices(s, n).join('+')}` : ' (external)'}`));
  return [
    `platform synth: ${result.outputPath} (${flavor}) for ${platform.domain} from ${configName}`,
    `  nodes:   ${nodes}`,
    `  stacks:  ${stacks.size} stacks, ${services.length} services, ${units.length} compose files`,
    `  GPU:     ${gpu.length > 0 ? gpu.join('; ') : 'none'}`,
    `  wrote ${result.files.length} files in ${Math.round(result.elapsedMs)} ms`,
  ].join('\n');
}
