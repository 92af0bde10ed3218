import { CORE_SCHEMA, loadAll } from 'js-yaml';
import { toYaml } from '../output/yaml.js';
import { maskObject, maskText } from './mask.js';
import { compareText } from '../output/order.js';

/** One comparable unit of a rendered tree. */
export interface Resource {
  /** What a reviewer thinks of as one deployable: `k3s/llm`, `compose/homelab/edge`. */
  readonly app: string;
  /** Identity across both sides: Kubernetes apiVersion/kind/namespace/name, compose node/stack/service, or path. */
  readonly key: string;
  /** Heading: `Deployment edge/litellm`, `service litellm`, `README.md`. */
  readonly title: string;
  /** Canonical, masked text: key order and formatting never show as changes. */
  readonly text: string;
}

/** Keys sorted at every level, so two renderings of the same object serialize identically. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value as Record<string, unknown>)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

const text = (value: unknown, kind?: string) => toYaml(canonical(maskObject(value, undefined, kind)));

/** `k3s/apps/llm/...` -> `k3s/llm`; `k3s/argocd/...` -> `k3s/argocd`; other k3s files -> `k3s`. */
function k3sApp(path: string): string {
  const parts = path.split('/');
  if (parts[1] === 'apps' && parts.length > 3) return `k3s/${parts[2]}`;
  if (parts[1] === 'argocd') return 'k3s/argocd';
  return 'k3s';
}

/** `compose/<node>/<stack>/...` -> `compose/<node>/<stack>`; other compose files -> `compose` or `compose/<node>`. */
function composeApp(path: string): string {
  const parts = path.split('/');
  return parts.length >= 4 ? parts.slice(0, 3).join('/') : parts.slice(0, Math.max(1, parts.length - 1)).join('/');
}

function appOf(path: string): string {
  if (path.startsWith('k3s/')) return k3sApp(path);
  if (path.startsWith('compose/')) return composeApp(path);
  return path.includes('/') ? (path.split('/')[0] as string) : '.';
}

type Manifest = { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string } };

/**
 * The documents of a YAML file, or undefined when it is not valid YAML (a file edited by hand in a
 * compared folder): that file is then compared as text. Read with js-yaml, not the `yaml` package
 * that parses platform.yaml (whose node positions name a bad key's line): a diff reads every
 * changed file, and js-yaml reads rendered files about eight times quicker (the reference's YAML
 * files: 11 against 90 ms). Its options read what the `yaml` package reads by default: the YAML
 * 1.2 core schema (no timestamps, no `<<` merges, `yes` is a string); a key twice in one mapping
 * makes the file text, as any YAML error does.
 */
function yamlDocuments(content: string): unknown[] | undefined {
  try {
    return loadAll(content, undefined, { schema: CORE_SCHEMA, json: false });
  } catch {
    return undefined;
  }
}

/** The resources of one file (its path decides how it is read). */
function resourcesOfFile(path: string, content: string): Resource[] {
  const app = appOf(path);
  const manifests = path.startsWith('k3s/') && path.endsWith('.yaml');
  const compose = path.startsWith('compose/') && path.endsWith('/compose.yaml');
  const documents = manifests || compose ? yamlDocuments(content) : undefined;
  if (documents && manifests) {
    const out: Resource[] = [];
    for (const obj of documents as (Manifest | null)[]) {
      if (!obj || typeof obj !== 'object' || !obj.kind || !obj.metadata?.name) continue;
      const ns = obj.metadata.namespace;
      out.push({
        app,
        key: `k8s ${obj.apiVersion}/${obj.kind}/${ns ?? ''}/${obj.metadata.name}`,
        title: `${obj.kind} ${ns ? `${ns}/` : ''}${obj.metadata.name}`,
        text: text(obj, obj.kind),
      });
    }
    return out;
  }
  // A compose file is one mapping (an empty file: no services).
  const doc = documents && documents.length <= 1 ? (documents[0] ?? {}) : undefined;
  if (doc && typeof doc === 'object' && !Array.isArray(doc)) {
    const { services = {}, ...rest } = doc as { services?: Record<string, unknown>; [key: string]: unknown };
    return [
      ...Object.entries(services).map(([name, service]) => ({ app, key: `compose ${app}/service/${name}`, title: `service ${name}`, text: text(service) })),
      { app, key: `compose ${app}/file`, title: 'compose.yaml (name, networks, volumes)', text: text(rest) },
    ];
  }
  return [{ app, key: `file ${path}`, title: path, text: maskText(content) }];
}

/**
 * Split a rendered tree (`compose/...`, `k3s/...`, by path) into resources. Files that are drawn
 * from others (the SVG picture of topology.mmd) are left out: their source shows the change.
 */
export function resourcesOf(files: ReadonlyMap<string, string>): Map<string, Resource> {
  return changedResourcesOf(files, new Map()).resources;
}

/** One side of a diff: the resources that can differ from the other side's, and every app the side has. */
export interface SideResources {
  readonly resources: Map<string, Resource>;
  /** Every app with a file on this side (a changed app is "added" when the base has none of its files). */
  readonly apps: ReadonlySet<string>;
}

/**
 * The resources of `files` that can differ from `other`'s. A file with the same path and bytes on
 * both sides holds the same resources on both (an object's identity decides its path), so only the
 * files whose bytes differ, or that one side lacks, are read: a diff costs what changed, not the
 * size of the tree.
 */
export function changedResourcesOf(files: ReadonlyMap<string, string>, other: ReadonlyMap<string, string>): SideResources {
  const resources = new Map<string, Resource>();
  const apps = new Set<string>();
  for (const [path, content] of [...files].sort(([a], [b]) => compareText(a, b))) {
    if (path.endsWith('.svg')) continue;
    apps.add(appOf(path));
    if (other.get(path) === content) continue;
    for (const r of resourcesOfFile(path, content)) resources.set(r.key, r);
  }
  return { resources, apps };
}
