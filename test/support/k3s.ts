import type { Manifest } from '../../charts/output-chart.js';
import { referenceConfig, type LoadedConfig } from '../../lib/config/load.js';
import { renderK3s } from '../../lib/synth.js';
import type { Platform } from '../../lib/model/platform.js';

/** A rendered k3s tree, with lookups by kind, namespace and name. */
export interface K3sTree {
  readonly platform: Platform;
  readonly files: Map<string, string>;
  readonly objects: readonly Manifest[];
  readonly notes: readonly string[];
  /** The object, or an error that lists what there is. */
  get<T = AnyObject>(kind: string, namespace: string | undefined, name: string): T;
  find<T = AnyObject>(kind: string, namespace: string | undefined, name: string): T | undefined;
  all<T = AnyObject>(kind: string): T[];
}

// Tests read deep into rendered objects; a loose type keeps the assertions readable.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyObject = any;

export async function renderK3sTree(loaded: LoadedConfig = referenceConfig()): Promise<K3sTree> {
  const { platform, output } = await renderK3s(loaded);
  const files = new Map(output.files.map((f) => [f.path, f.content]));
  const { parseAllDocuments } = await import('yaml');
  const objects: Manifest[] = [];
  for (const [path, content] of files) {
    if (!path.endsWith('.yaml')) continue;
    for (const doc of parseAllDocuments(content)) objects.push(doc.toJS() as Manifest);
  }
  const find = (kind: string, namespace: string | undefined, name: string) =>
    objects.find((o) => o.kind === kind && o.metadata.name === name && o.metadata.namespace === namespace);
  return {
    platform,
    files,
    objects,
    notes: output.notes ?? [],
    find,
    get(kind, namespace, name) {
      const found = find(kind, namespace, name);
      if (!found) {
        const have = objects.filter((o) => o.kind === kind).map((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`);
        throw new Error(`no ${kind} ${namespace ?? ''}/${name}; have ${have.join(', ')}`);
      }
      return found as AnyObject;
    },
    all: (kind) => objects.filter((o) => o.kind === kind) as AnyObject[],
  };
}

/** Pod spec of a workload of any kind. */
export function podSpec(workload: AnyObject): AnyObject {
  return workload.spec.template.spec;
}

export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'Job'];
