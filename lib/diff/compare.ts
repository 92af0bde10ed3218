import { structuredPatch } from 'diff';
import { changedResourcesOf, type Resource } from './resources.js';
import { compareText } from '../output/order.js';

export type ChangeKind = 'added' | 'changed' | 'removed';

export interface ResourceChange {
  readonly key: string;
  readonly title: string;
  readonly status: ChangeKind;
  readonly additions: number;
  readonly deletions: number;
  /** Unified diff hunks (`@@ … @@` and the lines), a few lines of context. */
  readonly diff: string;
}

export interface AppChange {
  readonly app: string;
  /** added: the app is new; removed: it is gone; changed: some of its resources differ. */
  readonly status: ChangeKind;
  readonly resources: readonly ResourceChange[];
  readonly additions: number;
  readonly deletions: number;
}

export interface TreeDiff {
  readonly apps: readonly AppChange[];
  readonly changed: boolean;
}

export const CONTEXT_LINES = 3;

function unified(before: string, after: string): { diff: string; additions: number; deletions: number } {
  const patch = structuredPatch('a', 'b', before, after, '', '', { context: CONTEXT_LINES });
  const lines: string[] = [];
  let additions = 0;
  let deletions = 0;
  for (const hunk of patch.hunks) {
    lines.push(`@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@`);
    for (const line of hunk.lines) {
      if (line.startsWith('\\')) continue;
      if (line.startsWith('+')) additions += 1;
      else if (line.startsWith('-')) deletions += 1;
      lines.push(line);
    }
  }
  return { diff: lines.join('\n'), additions, deletions };
}

/**
 * Compare two sides resource by resource; apps and resources in a stable order. `present`: the
 * apps each side has, which decide whether a changed app was added or removed (by default, the
 * apps of its resources; diffTrees passes every app of each tree, of which it reads only some files).
 */
export function compareResources(
  base: ReadonlyMap<string, Resource>,
  head: ReadonlyMap<string, Resource>,
  present: { readonly base: ReadonlySet<string>; readonly head: ReadonlySet<string> } = { base: appsOf(base), head: appsOf(head) },
): TreeDiff {
  const byApp = new Map<string, ResourceChange[]>();
  const appsBase = present.base;
  const appsHead = present.head;
  for (const key of [...new Set([...base.keys(), ...head.keys()])].sort()) {
    const before = base.get(key);
    const after = head.get(key);
    if (before && after && before.text === after.text) continue;
    const status: ChangeKind = !before ? 'added' : !after ? 'removed' : 'changed';
    const resource = (after ?? before) as Resource;
    const change = { key, title: resource.title, status, ...unified(before?.text ?? '', after?.text ?? '') };
    const list = byApp.get(resource.app) ?? [];
    list.push(change);
    byApp.set(resource.app, list);
  }
  const apps = [...byApp]
    .map(([app, resources]) => {
      const status: ChangeKind = !appsBase.has(app) ? 'added' : !appsHead.has(app) ? 'removed' : 'changed';
      const order = { removed: 0, changed: 1, added: 2 };
      return {
        app,
        status,
        resources: resources.sort((a, b) => order[a.status] - order[b.status] || compareText(a.title, b.title)),
        additions: resources.reduce((n, r) => n + r.additions, 0),
        deletions: resources.reduce((n, r) => n + r.deletions, 0),
      };
    })
    .sort((a, b) => compareText(a.app, b.app));
  return { apps, changed: apps.length > 0 };
}

/** The apps of a set of resources. */
function appsOf(resources: ReadonlyMap<string, Resource>): Set<string> {
  return new Set([...resources.values()].map((r) => r.app));
}

/** Compare two rendered trees (path -> bytes), reading only the files whose bytes differ. */
export function diffTrees(base: ReadonlyMap<string, string>, head: ReadonlyMap<string, string>): TreeDiff {
  const before = changedResourcesOf(base, head);
  const after = changedResourcesOf(head, base);
  return compareResources(before.resources, after.resources, { base: before.apps, head: after.apps });
}
