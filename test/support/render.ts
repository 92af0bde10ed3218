import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ComposeFlavor } from '../../lib/compose/service.js';
import { loadConfigFile, referenceConfig, validateConfig, type LoadedConfig } from '../../lib/config/load.js';
import type { PlatformConfigInput } from '../../lib/config/schema.js';
import { render } from '../../lib/synth.js';
import { storedRender, storeRender } from './render-store.js';
import { readYaml } from './yaml.js';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures');

export function fixtureNames(kind: 'valid' | 'invalid'): string[] {
  return readdirSync(join(FIXTURES, kind))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.replace(/\.yaml$/, ''))
    .sort();
}

export function loadFixture(kind: 'valid' | 'invalid', name: string): LoadedConfig {
  return loadConfigFile(join(FIXTURES, kind, `${name}.yaml`));
}

/** A config given inline in a test, validated like a file. */
export function inlineConfig(data: PlatformConfigInput): LoadedConfig {
  const source = { file: 'inline.yaml' };
  return { config: validateConfig(data, source), source };
}

export interface RenderedTree {
  readonly files: Map<string, string>;
  /** Parsed compose.yaml of `<node>/<stack>`: this tree's own copy, the same object on every call. */
  compose(dir: string): ComposeDoc;
  /** Parsed service `name` of `<node>/<stack>`. */
  service(dir: string, name: string): ComposeService;
  composeDirs(): string[];
}

export type ComposeService = Record<string, unknown> & {
  image: string;
  environment?: Record<string, string>;
  networks: string[];
  ports?: { target: number; published: string; host_ip: string; protocol: string }[];
  volumes?: Record<string, unknown>[];
  deploy: { resources: { limits: Record<string, string>; reservations?: { devices: Record<string, unknown>[] } } };
};
export type ComposeDoc = { name: string; services: Record<string, ComposeService>; networks: Record<string, unknown>; volumes?: Record<string, unknown> };

/**
 * Renders of the same config, shared by every test file of a vitest worker (vitest.config.ts runs
 * files with `isolate: false`, so this module is loaded once per worker). A render is a pure
 * function of the validated config and the flavour: many files render the reference platform or
 * a fixture again and again. What is kept is frozen; each caller gets its own copy of what it
 * reads (a structured clone is a fraction of a YAML parse), so a test may change its tree as
 * before without another test seeing it.
 */
export class RenderCache<T> {
  private readonly entries = new Map<string, T>();
  /** @param capacity renders kept, least recently used dropped first (a k3s tree and its objects are a few MB) */
  constructor(private readonly capacity: number) {}

  get(key: string, make: () => T): T {
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const made = make();
    this.entries.set(key, made);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    return made;
  }

  /** Forget `key` when it still holds `value` (a render that failed). */
  drop(key: string, value: T): void {
    if (this.entries.get(key) === value) this.entries.delete(key);
  }
}

/**
 * What a render depends on: the validated config (plain data) and the file it came from (error
 * messages name it). `undefined` is kept apart from a missing key, which JSON alone would not do.
 */
export function configKey(loaded: LoadedConfig, ...rest: string[]): string {
  const config = JSON.stringify(loaded.config, (_key, value: unknown) => (value === undefined ? '\u0000undefined' : value));
  return [loaded.source.file, ...rest, config].join('\u0000');
}

/** Freeze a parsed document and everything in it. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

interface ComposeRender {
  readonly files: ReadonlyMap<string, string>;
  /** Each compose.yaml parsed once, on first read. */
  readonly docs: Map<string, ComposeDoc>;
  readonly composeDirs: readonly string[];
}

const composeRenders = new RenderCache<ComposeRender>(48);

export function renderTree(loaded: LoadedConfig = referenceConfig(), flavor: ComposeFlavor = 'coolify'): RenderedTree {
  const key = configKey(loaded, flavor);
  const rendered = composeRenders.get(key, () => {
    // Another worker's render of the same config, else this worker's, stored for the others.
    let entries = storedRender<[string, string][]>('compose', key);
    if (!entries) {
      entries = render(loaded, flavor).files.map((f) => [f.path, f.content]);
      storeRender('compose', key, entries);
    }
    const files = new Map(entries);
    const composeDirs = [...files.keys()].filter((k) => k.endsWith('/compose.yaml')).map((k) => k.replace(/\/compose\.yaml$/, '')).sort();
    return { files, docs: new Map(), composeDirs };
  });
  // The caller's own file map and documents: what a test changes in its tree, no other test sees.
  const map = new Map(rendered.files);
  const mine = new Map<string, ComposeDoc>();
  const compose = (dir: string): ComposeDoc => {
    const own = mine.get(dir);
    if (own !== undefined) return own;
    let doc = rendered.docs.get(dir);
    if (doc === undefined) {
      const text = rendered.files.get(`${dir}/compose.yaml`);
      if (text === undefined) throw new Error(`no compose file at ${dir}; have ${[...rendered.files.keys()].filter((k) => k.endsWith('compose.yaml')).join(', ')}`);
      doc = deepFreeze(readYaml(text) as ComposeDoc);
      rendered.docs.set(dir, doc);
    }
    const copy = structuredClone(doc);
    mine.set(dir, copy);
    return copy;
  };
  return {
    files: map,
    compose,
    service(dir, name) {
      const service = compose(dir).services[name];
      if (!service) throw new Error(`no service ${name} in ${dir}`);
      return service;
    },
    composeDirs: () => [...rendered.composeDirs],
  };
}

/**
 * The text a service reads at `target`: in the Coolify flavour a Compose config inline in the file
 * (`$$` is Compose's escape for `$`), in the plain flavour the file beside compose.yaml.
 */
export function configText(tree: RenderedTree, dir: string, service: string, target: string): string | undefined {
  const doc = tree.compose(dir) as ComposeDoc & { configs?: Record<string, { content: string }> };
  const mounted = (tree.service(dir, service).configs as { source: string; target: string }[] | undefined)?.find((c) => c.target === target);
  if (mounted) return doc.configs?.[mounted.source]?.content.replace(/\$\$/g, '$');
  const bind = tree.service(dir, service).volumes?.find((v) => v.target === target && v.type === 'bind');
  return bind ? tree.files.get(`${dir}/${String(bind.source).replace(/^\.\//, '')}`) : undefined;
}
