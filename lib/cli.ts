import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Command, CommanderError, Option } from 'commander';
import { UsageError } from './config/errors.js';
import { writeUserFile } from './output/writer.js';
import { EXIT_FINDINGS, reportError } from './exit.js';
import { renderStarterConfig, SCHEMA_FILE } from './config/init.js';
import { loadConfigFile, referenceConfig, type LoadedConfig } from './config/load.js';
import { PROFILE_NAMES, type ProfileName } from './config/profiles.js';
import { configJsonSchema } from './config/schema.js';
import type { ComposeFlavor } from './compose/service.js';
import { checkOutput, summarize, synthesize, SYNTH_TARGETS, type SynthTarget } from './synth.js';
import { DIFF_FORMATS, formatDiff, type DiffFormat } from './diff/format.js';
import { formatValidation, REPORT_FORMATS, type ReportFormat } from './validate/report.js';
import { validate } from './validate/validate.js';
import { GRAPH_FORMATS, renderGraph, toMermaid, type GraphFormat } from './graph/render.js';
import { readableTopology, topology, TOPOLOGY_DETAILS, type TopologyDetail } from './graph/topology.js';
import { buildPlatform } from './synth.js';
import { VERSION } from './version.js';

/** Where the CLI writes: the process's streams, or a test's buffers. */
export interface CliOutput {
  readonly stdout: { write(text: string): unknown; readonly isTTY?: boolean };
  readonly stderr: { write(text: string): unknown };
  /** The folder `platform diff` runs in (its repository, its paths). @default the process's working folder */
  readonly cwd?: () => string;
}

function load(configFile: string | undefined): LoadedConfig {
  return configFile === undefined ? referenceConfig() : loadConfigFile(configFile);
}

function schemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}

/** The commands, writing to `io`; set before the commands are added, so each inherits it. */
function commands(io: CliOutput, setExitCode: (code: number) => void): Command {
  const program = new Command()
    .name('platform')
    .description('Infrastructure as code for a self-hosted AI homelab: one typed model, rendered for Coolify (Compose) and k3s.')
    .version(VERSION, '-V, --version', 'print the version of platform')
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) })
    .showHelpAfterError()
    .exitOverride();

  program
    .command('synth')
    .description('Render the platform (the embedded reference platform when no --config is given).')
    .option('-c, --config <file>', 'platform.yaml to render')
    .addOption(new Option('-t, --target <target>', 'what to render: Compose files, k3s manifests, or both').choices(SYNTH_TARGETS).default('all'))
    .addOption(new Option('-f, --flavor <flavor>', 'compose flavour').choices(['coolify', 'plain']).default('coolify'))
    .option('-o, --out <dir>', 'output folder (each target writes into <dir>/<target>)', 'dist')
    .option('-q, --quiet', 'print nothing on success')
    .option('--check', 'write nothing; exit 1 and name the files when the output on disk differs from what the config renders')
    .action(async (opts: { config?: string; target: SynthTarget; flavor: ComposeFlavor; out: string; quiet?: boolean; check?: boolean }) => {
      const started = performance.now();
      const loaded = load(opts.config);
      if (opts.check) {
        const stale = await checkOutput(loaded, { target: opts.target, flavor: opts.flavor, outDir: opts.out });
        if (stale.length === 0) {
          if (!opts.quiet) io.stdout.write(`platform synth --check: ${opts.out} is up to date with ${loaded.source.file}\n`);
          return;
        }
        io.stdout.write(
          `platform synth --check: ${stale.length} file(s) in ${opts.out} differ from what ${loaded.source.file} renders; run platform synth and commit:\n` +
            stale.map((s) => `  ${s.status.padEnd(7)} ${s.path}\n`).join(''),
        );
        setExitCode(EXIT_FINDINGS);
        return;
      }
      const result = await synthesize(loaded, { target: opts.target, flavor: opts.flavor, outDir: opts.out }, started);
      if (!opts.quiet) io.stdout.write(`${summarize(result, opts.flavor, loaded.source.file)}\n`);
    });

  program
    .command('validate')
    .description('Check the platform for what would break on the hardware (the embedded reference platform when no --config is given).')
    .option('-c, --config <file>', 'platform.yaml to check')
    .addOption(new Option('--format <format>', 'report format').choices(REPORT_FORMATS).default('text'))
    .option('--strict', 'exit 1 on warnings too')
    .action(async (opts: { config?: string; format: ReportFormat; strict?: boolean }) => {
      const result = await validate(() => load(opts.config));
      io.stdout.write(formatValidation(result, opts.format));
      if (result.errors > 0 || (opts.strict && result.warnings > 0)) setExitCode(EXIT_FINDINGS);
    });

  program
    .command('doctor')
    .description('Read-only pre-flight checks of a node against the config: Docker and Compose (or the k3s cluster), NVIDIA driver and runtime, GPUs, free disk, ports, VLAN interface, clock, DNS.')
    .option('-c, --config <file>', 'platform.yaml (default: the embedded reference platform)')
    .option('-n, --node <name>', 'the node of the config to check (default: the only node)')
    .option('--ssh <target>', 'check a remote node through ssh (user@host); default: this machine')
    .addOption(new Option('-t, --target <target>', 'what the node runs: Docker Compose (Coolify or plain) or k3s').choices(['compose', 'k3s']).default('compose'))
    .addOption(new Option('--format <format>', 'report format').choices(['text', 'json']).default('text'))
    .action(async (opts: { config?: string; node?: string; ssh?: string; target: 'compose' | 'k3s'; format: 'text' | 'json' }) => {
      const { doctorNode, formatDoctor, runDoctor } = await import('./doctor/doctor.js');
      const { LocalHost, SshHost } = await import('./doctor/host.js');
      const platform = buildPlatform(load(opts.config));
      const node = doctorNode(platform, opts.node);
      const report = runDoctor(platform, node, opts.ssh === undefined ? new LocalHost() : new SshHost(opts.ssh), opts.target);
      io.stdout.write(formatDoctor(report, opts.format));
      if (report.checks.some((c) => c.status === 'fail')) setExitCode(EXIT_FINDINGS);
    });

  program
    .command('diff')
    .description('Show what a change does to the rendered output: between two git revisions (each rendered by its own code and config), or two rendered folders.')
    .argument('[dirs...]', 'two rendered output folders to compare instead of revisions')
    .option('--base <ref>', 'base git revision')
    .option('--head <ref>', 'head git revision (default: the working tree)')
    .option('-c, --config <file>', 'platform.yaml, the same path on both sides (default: the embedded reference platform)')
    .addOption(new Option('--format <format>', 'output format').choices(DIFF_FORMATS).default('text'))
    .action(async (dirs: string[], opts: { base?: string; head?: string; config?: string; format: DiffFormat }) => {
      if (dirs.length !== 0 && dirs.length !== 2) throw new CommanderError(2, 'platform.diff', 'error: give two folders, or --base <ref>');
      if (dirs.length === 0 && !opts.base) throw new CommanderError(2, 'platform.diff', 'error: give --base <git-ref>, or two rendered folders');
      // The git helpers and jsdiff load only for this command: synth stays quick to start.
      const { runDiff } = await import('../lib/diff/run.js');
      const { diff, labels } = await runDiff(
        { dirs: dirs.length === 2 ? [dirs[0] as string, dirs[1] as string] : undefined, base: opts.base, head: opts.head, config: opts.config, cwd: io.cwd?.() ?? process.cwd() },
        (line) => io.stderr.write(`${line}\n`),
      );
      io.stdout.write(formatDiff(diff, labels, opts.format, opts.format === 'text' && io.stdout.isTTY === true));
      // Like kubectl diff: 0 no change, 1 changes, >1 error.
      if (diff.changed) setExitCode(EXIT_FINDINGS);
    });

  program
    .command('graph')
    .description('Draw the topology: zones, machines and GPUs, services, connections with ports, entry points.')
    .option('-c, --config <file>', 'platform.yaml to draw')
    .addOption(new Option('--format <format>', 'picture format').choices(GRAPH_FORMATS).default('mermaid'))
    .addOption(
      new Option('--detail <detail>', 'a box per service, per stack within a zone, or per zone; auto: the finest that GitHub still draws')
        .choices(['auto', ...TOPOLOGY_DETAILS])
        .default('auto'),
    )
    .option('-o, --out <file>', 'write to this file instead of standard output')
    .action(async (opts: { config?: string; format: GraphFormat; detail: TopologyDetail | 'auto'; out?: string }) => {
      const platform = buildPlatform(load(opts.config));
      const picture = opts.detail === 'auto' ? readableTopology(platform, toMermaid).topology : topology(platform, opts.detail);
      const text = await renderGraph(picture, opts.format);
      if (opts.out !== undefined) writeUserFile(opts.out, text);
      else io.stdout.write(text);
    });

  program
    .command('init')
    .description('Write a commented starter platform.yaml (and its JSON Schema beside it).')
    .addOption(new Option('-p, --profile <profile>', 'hardware profile').choices(PROFILE_NAMES).default('recommended'))
    .option('-o, --out <file>', 'where to write the config', 'platform.yaml')
    .option('--force', 'overwrite an existing file')
    .action((opts: { profile: ProfileName; out: string; force?: boolean }) => {
      if (opts.out !== '' && existsSync(opts.out) && !opts.force) throw new UsageError(`${opts.out} already exists; use --force to overwrite it`);
      const schemaPath = join(dirname(opts.out), SCHEMA_FILE);
      writeUserFile(opts.out, renderStarterConfig(opts.profile));
      writeUserFile(schemaPath, schemaText());
      io.stdout.write(`wrote ${opts.out} (profile ${opts.profile}) and ${schemaPath}\n`);
    });

  program
    .command('schema')
    .description('Print the JSON Schema of platform.yaml.')
    .action(() => {
      io.stdout.write(schemaText());
    });

  program
    .command('secrets')
    .description('The secrets lifecycle: init, generate, set, check, get, rotate; hand-over: env, coolify, k3s (platform secrets --help).')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[args...]')
    .action(async (args: string[]) => {
      // age, bcrypt and the hand-over load only for this command.
      const { runSecrets } = await import('./secrets/command.js');
      await runSecrets(args, io, setExitCode);
    });
  return program;
}

/**
 * Run the platform command with these arguments (after `platform`): what it prints goes to `io`,
 * the exit code is returned (bin/platform.ts sets it on the process). Every error ends here
 * (lib/exit.ts): a one-line message and exit 2 for bad input, a stack trace and 1 for a bug.
 */
export async function main(args: readonly string[], io: CliOutput = process): Promise<number> {
  let exitCode = 0;
  try {
    await commands(io, (code) => (exitCode = code)).parseAsync([...args], { from: 'user' });
    return exitCode;
  } catch (err) {
    const { code, text } = reportError(err);
    io.stderr.write(text);
    return code;
  }
}
