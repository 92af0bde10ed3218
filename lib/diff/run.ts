import { relative, resolve } from 'node:path';
import { parseConfig, readConfigText, referenceConfig, type LoadedConfig } from '../config/load.js';
import { reportError } from '../exit.js';
import { renderTargets } from '../synth.js';
import { diffTrees, type TreeDiff } from './compare.js';
import type { DiffLabels } from './format.js';
import { blobContent, commitCode, DiffError, renderRevision, repoRoot, resolveCommit, runningCodeDigest } from './git.js';
import { gitBlobId } from './source-digest.js';
import { readTree } from './tree.js';

export interface DiffRequest {
  /** Compare two rendered folders instead of revisions. */
  readonly dirs?: readonly [string, string];
  /** Base revision. */
  readonly base?: string;
  /** Head revision. @default the working tree, rendered by this process's code */
  readonly head?: string;
  /** platform.yaml, as a path from `cwd`. @default the embedded reference platform */
  readonly config?: string;
  /** The folder the command runs in: the repository is the one around it. */
  readonly cwd: string;
}

type Files = Map<string, string>;

/** Both targets of a config, in memory, rendered by the code that is running. */
async function renderInProcess(loaded: LoadedConfig): Promise<Files> {
  const { outputs } = await renderTargets(loaded, 'all', 'coolify');
  return new Map(outputs.flatMap((o) => o.files.map((f) => [`${o.target}/${f.path}`, f.content] as const)));
}

/** One side of the diff rendered by the running code: a revision with that code, or the working tree. */
interface Side {
  /** The config's git blob id (undefined: the embedded reference; null: the revision has no config file, so no platform). */
  readonly config: string | undefined | null;
  /** Render this side. */
  readonly render: () => Promise<Files>;
}

/** Render (or read) both sides and compare them resource by resource. */
export async function runDiff(request: DiffRequest, log: (line: string) => void): Promise<{ diff: TreeDiff; labels: DiffLabels }> {
  if (request.dirs) {
    const [a, b] = request.dirs;
    // As given when run from the process's folder (errors name the folder as typed); else from `cwd`.
    const at = (dir: string) => (resolve(request.cwd) === process.cwd() ? dir : resolve(request.cwd, dir));
    return { diff: diffTrees(readTree(at(a)), readTree(at(b))), labels: { base: a, head: b } };
  }
  if (!request.base) throw new Error('give --base <git-ref>, or two rendered folders');
  const root = await repoRoot(request.cwd);
  const configInRepo = request.config === undefined ? undefined : relative(root, resolve(request.cwd, request.config));

  /*
   * A revision whose code is the running code (the same digest: lib/diff/source-digest.ts) renders
   * the same bytes here as in a checkout of its own, so it is rendered in this process from its
   * config as committed: no checkout, no install, no build. Only a revision with other code is
   * checked out and built.
   */
  const revision = async (ref: string): Promise<Side | { ref: string; sha: string }> => {
    const sha = await resolveCommit(root, ref);
    const code = await commitCode(root, sha, configInRepo === undefined ? [] : [configInRepo]);
    if (code.digest !== runningCodeDigest()) return { ref, sha };
    const config = configInRepo === undefined ? undefined : (code.blobs.get(configInRepo) ?? null);
    const render = async (): Promise<Files> => {
      if (config === null) return new Map(); // a revision before the config existed had no platform
      try {
        return await renderInProcess(config === undefined ? referenceConfig() : parseConfig(await blobContent(root, config), `${ref}:${configInRepo}`));
      } catch (err) {
        const { code, text } = reportError(err);
        if (code === 1) throw err;
        throw new DiffError(`platform synth at ${ref} failed (exit ${code}):\n${text.trimEnd()}`);
      }
    };
    return { config, render };
  };
  const workingConfig = request.config;
  const workingText = workingConfig === undefined ? undefined : readConfigText(workingConfig, resolve(request.cwd, workingConfig));
  const workingTree: Side = {
    config: workingText === undefined ? undefined : gitBlobId(Buffer.from(workingText)),
    render: () => renderInProcess(workingConfig === undefined || workingText === undefined ? referenceConfig() : parseConfig(workingText, workingConfig)),
  };
  const [base, head] = await Promise.all([revision(request.base), request.head ? revision(request.head) : workingTree]);

  let baseFiles: Promise<Files>;
  let headFiles: Promise<Files>;
  if ('render' in base && 'render' in head && base.config === head.config) {
    // The same code and the same config: the same bytes, rendered once.
    headFiles = head.render();
    baseFiles = headFiles;
  } else {
    // Each built revision has its own scratch folder and git index: both can build at once.
    const built = (side: { ref: string; sha: string }) => renderRevision(root, side.ref, side.sha, configInRepo, log);
    baseFiles = 'render' in base ? base.render() : built(base);
    headFiles = 'render' in head ? head.render() : built(head);
  }
  const [baseTree, headTree] = await Promise.all([baseFiles, headFiles]);
  // One tree on both sides (same code, same config): no change, nothing to compare.
  return {
    diff: baseTree === headTree ? { apps: [], changed: false } : diffTrees(baseTree, headTree),
    labels: { base: request.base, head: request.head ?? 'working tree' },
  };
}
