#!/usr/bin/env node
// Builds the CLI (`build/bin/platform.js`) and the `cdk8s synth` entry (`build/charts/main.js`) as
// bundles: the project's code and its dependencies in a few files, so a command starts by reading
// one file instead of resolving some 300 modules. Code only some commands need (cdk8s and the k3s
// renderer, `platform diff`, Graphviz for SVG) sits in chunks loaded on first use by an `import()`.
// The output is deterministic: the same sources and dependencies give the same bytes, so a build/
// that records the sources' digest now is left as it is.
// Otherwise `build` becomes a symbolic link to the bundle of the sources now, `.build/<digest>`:
// made there (or kept from an earlier build of the same sources), then the link is swapped in by
// one rename(2), which replaces it atomically. A CLI starting meanwhile (`npx platform`'s first run
// on a machine runs this script through `prepare` while other processes may be running build/)
// finds the whole old bundle or the whole new one, never a half-written one, never none. A CLI that
// started from the bundle replaced keeps loading its chunks: Node runs a program from its real path,
// and that bundle stays in .build/ until the next swap.
// Type checking is `tsc --noEmit` (`npm run build` runs both; `prepare`, on install, bundles only).
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const root = resolve(import.meta.dirname, '..');

/**
 * zod's error messages in other languages (`z.locales`, a third of zod) are never shown: every
 * config error is this project's own text (lib/config/load.ts), and zod's English messages come from
 * `locales/en.js`, which is imported on its own. The namespace is re-exported as a value, so no
 * bundler can drop it; it is replaced by an empty module.
 */
const noZodLocales = {
  name: 'no-zod-locales',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]zod[\\/]/.test(args.importer) ? { path: 'zod-locales', namespace: 'empty' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'empty' }, () => ({ contents: 'export {};', loader: 'js' }));
  },
};
/**
 * cdk8s bundles its own copy of `yaml` (package.json bundledDependencies, pinned to one version);
 * the CLI already loads the project's `yaml` for the config and the Compose files. When the two are
 * the same version, cdk8s is given the project's: the k3s chunk then holds no second YAML library
 * to parse and evaluate on every k3s synth. Another version keeps its own copy.
 */
const oneYaml = {
  name: 'one-yaml',
  setup(b) {
    const versionOf = (dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
    const own = join(root, 'node_modules', 'yaml');
    const cdk8s = join(root, 'node_modules', 'cdk8s', 'node_modules', 'yaml');
    if (!existsSync(cdk8s) || versionOf(cdk8s) !== versionOf(own)) return;
    b.onResolve({ filter: /^yaml$/ }, (args) => (/[\\/]node_modules[\\/]cdk8s[\\/]/.test(args.importer) ? b.resolve('yaml', { resolveDir: root, kind: args.kind }) : undefined));
  },
};
/**
 * What "the code" is and when a bundle is of it: lib/diff/source-digest.ts, the one definition of
 * both (the test suite's global setup reads the same). And, from lib/output/cleanup.ts (the
 * writer's), how a path is removed (a link itself, not what it names) and whether a process still
 * runs. Compiled here to run them.
 */
async function libraryModule() {
  const compiled = await build({
    absWorkingDir: root,
    stdin: { contents: "export * from './lib/diff/source-digest.ts'; export * from './lib/output/cleanup.ts';", resolveDir: root, loader: 'ts' },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    logLevel: 'warning',
  });
  return import(`data:text/javascript;base64,${Buffer.from(compiled.outputFiles[0].contents).toString('base64')}`);
}

const { BUNDLE, bundleHolds, bundleIsCurrent, processAlive, removePath, sourceDigest } = await libraryModule();
const link = join(root, BUNDLE.folder);
const versions = join(root, BUNDLE.versions);
const digest = sourceDigest(root);
if (bundleIsCurrent(root, digest)) process.exit(0);

/** The name in .build/ that `build` links to, when it is such a link. */
function linkedVersion() {
  try {
    const target = readlinkSync(link);
    return target.startsWith(`${BUNDLE.versions}/`) ? target.slice(BUNDLE.versions.length + 1) : undefined;
  } catch {
    return undefined;
  }
}

mkdirSync(versions, { recursive: true });
// While this build runs, no other build removes anything from .build/ (see the end).
const running = join(versions, `running-${process.pid}`);
writeFileSync(running, '');
const version = join(versions, digest);
// A bundle kept from an earlier build of the same sources is linked again, if it is whole.
if (existsSync(version) && !bundleHolds(version, digest)) removePath(version);
if (!existsSync(version)) {
  const staging = `${version}.staging-${process.pid}`;
  await build({
    absWorkingDir: root,
    // The entries whose presence bundleHolds checks, from their sources.
    entryPoints: BUNDLE.entries.map((entry) => entry.replace(/\.js$/, '.ts')),
    outdir: staging,
    outbase: '.',
    entryNames: '[dir]/[name]',
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.19',
    // CommonJS dependencies (yaml, commander, cdk8s) call `require` for Node's own modules: an ES
    // module has none, so each file gets one.
    banner: { js: "import { createRequire as __platformRequire } from 'node:module'; const require = __platformRequire(import.meta.url);" },
    // `platform diff` renders a revision in-process when its sources are the ones this build was made from.
    define: { PLATFORM_SOURCE_DIGEST: JSON.stringify(digest) },
    plugins: [noZodLocales, oneYaml],
    legalComments: 'none',
    logLevel: 'warning',
  });
  chmodSync(join(staging, 'bin', 'platform.js'), 0o755);
  // The sources' digest the build was made from: this script and the test suite's global setup
  // (test/support/build.ts) reuse a build whose recorded digest is the sources' digest now.
  writeFileSync(join(staging, BUNDLE.digestFile), `${digest}\n`);
  try {
    renameSync(staging, version);
  } catch (err) {
    // Another build of the same sources renamed its own in first: the same bytes.
    if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
    removePath(staging);
  }
}

let replaced = linkedVersion();
// A build/ that is a folder (made before build/ was a link, or by hand) cannot be replaced by a
// rename: it is moved into .build/ first, and kept there as a replaced bundle is. That once, a CLI
// starting between the two renames finds no build/.
if (lstatSync(link, { throwIfNoEntry: false })?.isDirectory()) {
  replaced = `folder-${process.pid}`;
  renameSync(link, join(versions, replaced));
}
const swap = join(versions, `link-${process.pid}`);
// A link left by a killed build of the same pid (removePath: rmSync leaves a dangling link on Node 23+).
removePath(swap);
symlinkSync(`${BUNDLE.versions}/${digest}`, swap);
renameSync(swap, link);

// Kept in .build/: the bundle now and the one it replaced (a CLI started from it may still load a
// chunk). The rest goes (older bundles, what killed builds left), unless another build is running:
// it may be about to link any bundle here, so then nothing is removed, and a later build cleans up.
const otherBuilds = readdirSync(versions).filter((name) => {
  const pid = Number(/^running-(\d+)$/.exec(name)?.[1]);
  return Number.isInteger(pid) && pid !== process.pid && processAlive(pid);
});
if (otherBuilds.length === 0) {
  for (const name of readdirSync(versions)) if (name !== digest && name !== replaced && name !== `running-${process.pid}`) removePath(join(versions, name));
}
rmSync(running, { force: true });
