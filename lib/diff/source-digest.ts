/*
 * What "the code" of a revision is, for `platform diff`: every file the build and the render read
 * (the sources, the image build contexts, the dependency lock, the build script). Two trees with the
 * same digest render the same bytes from the same config, so a revision whose digest is the running
 * code's is rendered in-process instead of being checked out and built in a scratch folder.
 * The digest is made of git blob ids, so a commit's comes from `git ls-tree` without checking
 * anything out, and a folder's from its files. scripts/build.mjs records the sources' digest in the
 * bundle it builds.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The paths, relative to the repository root, that make up the code. */
export const SOURCE_PATHS: readonly string[] = ['bin', 'charts', 'images', 'lib', 'scripts', 'stacks', 'package.json', 'package-lock.json', 'tsconfig.json'];

/** Git's object id of a blob with this content (`git hash-object`). */
export function gitBlobId(content: Uint8Array): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

/** The digest of a listing of `[path, blob id]` pairs, in any order. */
export function digestListing(entries: readonly (readonly [string, string])[]): string {
  const lines = entries.map(([path, id]) => `${id} ${path}\n`).sort();
  return createHash('sha256').update(lines.join('')).digest('hex');
}

/**
 * The files of SOURCE_PATHS in a checkout: in a git repository those git tracks or would add (what
 * .gitignore leaves out, a `__pycache__/` a test made, is not code); otherwise every file.
 */
export function sourceFiles(root: string): string[] {
  try {
    const listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', ...SOURCE_PATHS], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return [...new Set(listed.split('\0').filter(Boolean))];
  } catch {
    const files: string[] = [];
    const visit = (path: string): void => {
      if (lstatSync(join(root, path)).isDirectory()) for (const name of readdirSync(join(root, path))) visit(`${path}/${name}`);
      else files.push(path);
    };
    for (const path of SOURCE_PATHS) if (existsSync(join(root, path))) visit(path);
    return files;
  }
}

/** The digest of the code in a checkout of the repository (its files as they are, committed or not). */
export function sourceDigest(root: string): string {
  const entries: [string, string][] = [];
  for (const path of sourceFiles(root)) {
    const full = join(root, path);
    if (!existsSync(full)) continue; // deleted, not yet committed
    const stat = lstatSync(full);
    if (stat.isSymbolicLink()) entries.push([path, gitBlobId(Buffer.from(readlinkSync(full)))]);
    else if (stat.isFile()) entries.push([path, gitBlobId(readFileSync(full))]);
  }
  return digestListing(entries);
}

/** The checkout a module file belongs to: the nearest folder above it with a package.json. */
export function checkoutOf(file: string): string {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${file}`);
  }
}

/**
 * The bundle scripts/build.mjs makes in a checkout: its folder (a link to one of the bundles kept in
 * `versions`), its entry files, and the file recording the digest of the code it was made from.
 */
export const BUNDLE = { folder: 'build', versions: '.build', entries: ['bin/platform.js', 'charts/main.js'], digestFile: 'source-digest' } as const;

/**
 * Whether `folder` is a whole bundle of the code whose digest is `digest`: it records that digest
 * and holds its entries (the bundler writes the digest last, into a folder renamed in whole).
 */
export function bundleHolds(folder: string, digest: string): boolean {
  const recorded = join(folder, BUNDLE.digestFile);
  return existsSync(recorded) && readFileSync(recorded, 'utf8').trim() === digest && BUNDLE.entries.every((entry) => existsSync(join(folder, entry)));
}

/**
 * Whether `root`'s bundle was made from the code there now. The bundle is deterministic, so such a
 * bundle is what building again would give: scripts/build.mjs leaves it as it is, and so does the
 * test suite's global setup.
 */
export function bundleIsCurrent(root: string, digest: string = sourceDigest(root)): boolean {
  return bundleHolds(join(root, BUNDLE.folder), digest);
}
