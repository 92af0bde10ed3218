import { relative, resolve } from 'node:path';
import { loadConfigFile, referenceConfig } from '../config/load.js';
import { renderTargets } from '../synth.js';
import { compareResources, type TreeDiff } from './compare.js';
import type { DiffLabels } from './format.js';
import { renderRevision, repoRoot } from './git.js';
import { resourcesOf } from './resources.js';
import { readTree } from './tree.js';

export interface DiffRequest {
  /** Compare two rendered folders instead of revisions. */
  readonly dirs?: readonly [string, string];
  /** Base revision. */
  readonly base?: string;
  /** Head revision. @default the working tree, rendered by this process's code */
  readonly head?: string;
  /** platform.yaml, as a path from the current directory. @default the embedded reference platform */
  readonly config?: string;
  readonly cwd: string;
}

/** The working tree, rendered in memory by the code that is running. */
async function workingTree(config: string | undefined): Promise<Map<string, string>> {
  const loaded = config === undefined ? referenceConfig() : loadConfigFile(config);
  const { outputs } = await renderTargets(loaded, 'all', 'coolify');
  return new Map(outputs.flatMap((o) => o.files.map((f) => [`${o.target}/${f.path}`, f.content] as const)));
}

/** Render (or read) both sides and compare them resource by resource. */
export async function runDiff(request: DiffRequest, log: (line: string) => void): Promise<{ diff: TreeDiff; labels: DiffLabels }> {
  if (request.dirs) {
    const [a, b] = request.dirs;
    return { diff: compareResources(resourcesOf(readTree(a)), resourcesOf(readTree(b))), labels: { base: a, head: b } };
  }
  if (!request.base) throw new Error('give --base <git-ref>, or two rendered folders');
  const root = await repoRoot(request.cwd);
  const configInRepo = request.config === undefined ? undefined : relative(root, resolve(request.cwd, request.config));
  // Two worktrees of one repository are added and pruned one after the other (git names and prunes
  // worktrees under shared locks; concurrent adds can collide); the working tree renders alongside.
  const basePending = renderRevision(root, request.base, configInRepo, log);
  const headPending = request.head ? basePending.then(() => renderRevision(root, request.head as string, configInRepo, log)) : workingTree(request.config);
  const [base, head] = await Promise.all([basePending, headPending]);
  return {
    diff: compareResources(resourcesOf(base), resourcesOf(head)),
    labels: { base: request.base, head: request.head ?? 'working tree' },
  };
}
