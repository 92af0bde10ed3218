import type { Manifest } from '../../charts/output-chart.js';
import { referenceConfig, type LoadedConfig } from '../../lib/config/load.js';
import { buildPlatform, renderK3s } from '../../lib/synth.js';
import type { Platform } from '../../lib/model/platform.js';
import { configKey, deepFreeze, RenderCache } from './render.js';
import { storedRender, storeRender } from './render-store.js';
import { readYamlAll } from './yaml.js';

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

interface K3sRender {
  readonly files: ReadonlyMap<string, string>;
  /** Every object of every file, parsed once and frozen (see RenderCache); callers get a copy. */
  readonly objects: readonly Manifest[];
  readonly notes: readonly string[];
}

/** k3s renders of the same config, shared by the test files of a worker (see RenderCache in render.ts). */
const k3sRenders = new RenderCache<Promise<K3sRender>>(16);

/**
 * Most files are the same text in every config (a namespace, a service every profile has): each text
 * is parsed once per worker, frozen, and shared by every render that has it and by the ArgoCD model.
 */
const parsedFiles = new RenderCache<readonly Manifest[]>(8192);

/** The objects of one rendered YAML file, parsed once per text and frozen (read them, or clone them). */
export function manifestsOf(content: string): readonly Manifest[] {
  return parsedFiles.get(content, () => deepFreeze(readYamlAll(content) as Manifest[]));
}

/** A k3s render as the workers share it (render-store.ts): JSON holds no Map. */
interface StoredK3sRender {
  readonly files: readonly (readonly [string, string])[];
  readonly objects: readonly Manifest[];
  readonly notes: readonly string[];
}

/** The render of `key`: another worker's (read back as JSON, a fraction of a render and its YAML parse), else this worker's, stored for the others. */
async function renderK3sOnce(loaded: LoadedConfig, key: string): Promise<K3sRender> {
  const stored = storedRender<StoredK3sRender>('k3s', key);
  if (stored) return { files: new Map(stored.files), objects: deepFreeze(stored.objects), notes: deepFreeze(stored.notes) };
  const { output } = await renderK3s(loaded);
  const files = new Map(output.files.map((f) => [f.path, f.content]));
  const objects: Manifest[] = [];
  for (const [path, content] of files) {
    if (!path.endsWith('.yaml')) continue;
    objects.push(...manifestsOf(content));
  }
  const notes = output.notes ?? [];
  storeRender('k3s', key, { files: [...files], objects, notes } satisfies StoredK3sRender);
  return { files, objects: deepFreeze(objects), notes: deepFreeze(notes) };
}

export async function renderK3sTree(loaded: LoadedConfig = referenceConfig()): Promise<K3sTree> {
  const key = configKey(loaded, 'k3s');
  const pending = k3sRenders.get(key, () => renderK3sOnce(loaded, key));
  let rendered: K3sRender;
  try {
    rendered = await pending;
  } catch (err) {
    // A config that does not render is not kept: the next caller sees the same error, freshly made.
    k3sRenders.drop(key, pending);
    throw err;
  }
  // The model is the caller's own (it is cheap to build, and a test may ask it anything); it is the
  // same model the cached render was made from, since building it is a pure function of the config.
  const platform = buildPlatform(loaded);
  // The caller's own files and objects: what a test changes in its tree, no other test sees.
  const files = new Map(rendered.files);
  const objects = structuredClone(rendered.objects) as Manifest[];
  const find = (kind: string, namespace: string | undefined, name: string) =>
    objects.find((o) => o.kind === kind && o.metadata.name === name && o.metadata.namespace === namespace);
  return {
    platform,
    files,
    objects,
    notes: [...rendered.notes],
    find: find as K3sTree['find'],
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
