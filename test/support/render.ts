import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { ComposeFlavor } from '../../lib/compose/service.js';
import { loadConfigFile, referenceConfig, validateConfig, type LoadedConfig } from '../../lib/config/load.js';
import type { PlatformConfigInput } from '../../lib/config/schema.js';
import { render } from '../../lib/synth.js';

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
  /** Parsed compose.yaml of `<node>/<stack>`. */
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

export function renderTree(loaded: LoadedConfig = referenceConfig(), flavor: ComposeFlavor = 'coolify'): RenderedTree {
  const { files } = render(loaded, flavor);
  const map = new Map(files.map((f) => [f.path, f.content]));
  const compose = (dir: string): ComposeDoc => {
    const text = map.get(`${dir}/compose.yaml`);
    if (text === undefined) throw new Error(`no compose file at ${dir}; have ${[...map.keys()].filter((k) => k.endsWith('compose.yaml')).join(', ')}`);
    return parse(text) as ComposeDoc;
  };
  return {
    files: map,
    compose,
    service(dir, name) {
      const service = compose(dir).services[name];
      if (!service) throw new Error(`no service ${name} in ${dir}`);
      return service;
    },
    composeDirs: () => [...map.keys()].filter((k) => k.endsWith('/compose.yaml')).map((k) => k.replace(/\/compose\.yaml$/, '')).sort(),
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
