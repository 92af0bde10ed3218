import type { PlatformConfig } from '../config/schema.js';
import { alertmanager } from './alertmanager.js';
import { amdGpuExporter } from './amd-gpu-exporter.js';
import { alloy } from './alloy.js';
import { blackboxExporter } from './blackbox-exporter.js';
import { caddy } from './caddy.js';
import { cadvisor } from './cadvisor.js';
import { cogvideox } from './cogvideox.js';
import { comfyui } from './comfyui.js';
import { comfyuiModels } from './comfyui-models.js';
import { ddclient } from './ddclient.js';
import type { ServiceDescriptor } from './descriptor.js';
import { gpuExporter } from './gpu-exporter.js';
import { grafana } from './grafana.js';
import { langfuse } from './langfuse.js';
import { litellm } from './litellm.js';
import { loki } from './loki.js';
import { minio } from './minio.js';
import { mochi } from './mochi.js';
import { n8n } from './n8n.js';
import { nodeExporter } from './node-exporter.js';
import { ntfy } from './ntfy.js';
import { ollama } from './ollama.js';
import { ollamaInit } from './ollama-init.js';
import { openWebui } from './open-webui.js';
import { postgres } from './postgres.js';
import { prometheus } from './prometheus.js';
import { qdrant } from './qdrant.js';
import { searxng } from './searxng.js';
import { technitium } from './technitium.js';
import { uptimeKuma } from './uptime-kuma.js';
import { valkey } from './valkey.js';

/**
 * Every service kind the platform knows, one descriptor each (in its own file). The order is the
 * build order where dependencies allow (`requires` and `uses` are built first), which keeps the
 * rendered output stable. A new kind is its file plus its line here.
 */
export const SERVICE_DESCRIPTORS = [
  technitium,
  ddclient,
  postgres,
  valkey,
  minio,
  qdrant,
  langfuse,
  n8n,
  searxng,
  ollama,
  ollamaInit,
  litellm,
  openWebui,
  comfyui,
  comfyuiModels,
  mochi,
  cogvideox,
  ntfy,
  prometheus,
  alertmanager,
  loki,
  grafana,
  uptimeKuma,
  nodeExporter,
  cadvisor,
  gpuExporter,
  amdGpuExporter,
  caddy,
  alloy,
  blackboxExporter,
] as const;

/** A config key under `services:` and `images:`. */
export type ServiceName = (typeof SERVICE_DESCRIPTORS)[number]['name'];

/** Every service kind by name, in registry order (the schema's enum: a typo is caught, not ignored). */
export const SERVICE_NAMES = SERVICE_DESCRIPTORS.map((d) => d.name) as unknown as readonly [ServiceName, ...ServiceName[]];

/**
 * The same names typed as plain strings, for the config schema: the descriptors' own types
 * mention the config type the schema defines, so a literal union there would be circular.
 */
export const SERVICE_NAME_KEYS: readonly [string, ...string[]] = SERVICE_NAMES;

const BY_NAME: ReadonlyMap<string, ServiceDescriptor> = new Map(SERVICE_DESCRIPTORS.map((d) => [d.name, d as ServiceDescriptor]));

for (const d of SERVICE_DESCRIPTORS as readonly ServiceDescriptor[]) {
  const named = [...(d.requires ?? []), ...(d.uses ?? []), ...(typeof d.on === 'object' ? [d.on.with] : [])];
  for (const other of named) if (!BY_NAME.has(other)) throw new Error(`service ${d.name} names unknown service ${other}`);
}

/** The descriptor of a service kind. */
export function descriptorOf(name: string): ServiceDescriptor | undefined {
  return BY_NAME.get(name);
}

/** The pinned image of every service kind, by name (Renovate reads the literal in each file). */
export function pinnedImages(): Readonly<Record<ServiceName, string>> {
  return Object.fromEntries(SERVICE_DESCRIPTORS.map((d) => [d.name, d.image])) as Record<ServiceName, string>;
}

/**
 * Whether a service kind is on: `services.<name>.enabled` when set, else its descriptor's default
 * (on, but ddclient only with `exposure: public` and catalog services only when asked for). The
 * one answer every check and the builder read.
 */
export function isEnabled(config: PlatformConfig, name: string): boolean {
  const explicit = config.services[name as ServiceName]?.enabled;
  if (explicit !== undefined) return explicit;
  const byDefault = descriptorOf(name)?.enabledByDefault ?? true;
  return typeof byDefault === 'function' ? byDefault(config) : byDefault;
}

/**
 * The descriptors in build order: each after what it requires and uses, otherwise in registry
 * order; the edge ones after all the others (they serve the routes every other one declares).
 */
export function buildOrder(): readonly ServiceDescriptor[] {
  const all = SERVICE_DESCRIPTORS as readonly ServiceDescriptor[];
  const ordered: ServiceDescriptor[] = [];
  const seen = new Set<string>();
  const visit = (d: ServiceDescriptor, edge: boolean) => {
    if (seen.has(d.name) || (d.edge ?? false) !== edge) return;
    seen.add(d.name);
    for (const dep of [...(d.requires ?? []), ...(d.uses ?? [])]) visit(BY_NAME.get(dep) as ServiceDescriptor, edge);
    ordered.push(d);
  };
  for (const edge of [false, true]) for (const d of all) visit(d, edge);
  return ordered;
}
