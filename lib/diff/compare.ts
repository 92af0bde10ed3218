import { structuredPatch } from 'diff';
import type { Resource } from './resources.js';
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

/** Compare two sides resource by resource; apps and resources in a stable order. */
export function compareResources(base: ReadonlyMap<string, Resource>, head: ReadonlyMap<string, Resource>): TreeDiff {
  const byApp = new Map<string, ResourceChange[]>();
  const appsBase = new Set([...base.values()].map((r) => r.app));
  const appsHead = new Set([...head.values()].map((r) => r.app));
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
