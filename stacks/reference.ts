import { ConfigIssues, type ConfigIssue } from '../lib/config/errors.js';
import { appGpuCount, appPorts, appRoutes, appVolumeName, findAppPort } from '../lib/config/apps.js';
import type { PlatformConfig, ServiceSettings } from '../lib/config/schema.js';
import type { Node } from '../lib/model/node.js';
import { Platform } from '../lib/model/platform.js';
import type { Service } from '../lib/model/service.js';
import type { Stack } from '../lib/model/stack.js';
import type { Zone } from '../lib/model/zone.js';
import { Alertmanager } from '../lib/services/alertmanager.js';
import { Alloy } from '../lib/services/alloy.js';
import { BlackboxExporter } from '../lib/services/blackbox-exporter.js';
import { Cadvisor } from '../lib/services/cadvisor.js';
import { Caddy } from '../lib/services/caddy.js';
import { LOKI_GATEWAY_USER } from '../lib/configs/caddyfile.js';
import { CogVideoX } from '../lib/services/cogvideox.js';
import { ComfyUi, COMFYUI_PORT } from '../lib/services/comfyui.js';
import { ComfyUiModels } from '../lib/services/comfyui-models.js';
import type { CatalogServiceProps } from '../lib/services/common.js';
import { Ddclient } from '../lib/services/ddclient.js';
import { GpuExporter } from '../lib/services/gpu-exporter.js';
import { Grafana } from '../lib/services/grafana.js';
import { Litellm } from '../lib/services/litellm.js';
import { Loki } from '../lib/services/loki.js';
import { Minio, MINIO_API_PORT, MINIO_CONSOLE_PORT, MINIO_HEALTH_PATH } from '../lib/services/minio.js';
import { Mochi } from '../lib/services/mochi.js';
import { envPrefix, type ServiceName } from '../lib/services/names.js';
import { NodeExporter } from '../lib/services/node-exporter.js';
import { Ntfy } from '../lib/services/ntfy.js';
import { Ollama } from '../lib/services/ollama.js';
import { OllamaInit } from '../lib/services/ollama-init.js';
import { OpenWebUi } from '../lib/services/open-webui.js';
import { Postgres } from '../lib/services/postgres.js';
import { Prometheus } from '../lib/services/prometheus.js';
import { Searxng } from '../lib/services/searxng.js';
import { Technitium, TECHNITIUM_ADMIN_PORT } from '../lib/services/technitium.js';
import { UptimeKuma } from '../lib/services/uptime-kuma.js';
import { UserApp } from '../lib/services/user-app.js';
import { Valkey } from '../lib/services/valkey.js';

/*
 * The reference platform: which services exist, in which stacks and zones,
 * on which nodes, and who may reach whom. Everything here is wiring; what a service *is* lives in
 * its construct under lib/services/.
 */

/** Stacks in the order they are declared (deploy order is derived from connections). */
export const REFERENCE_STACKS: Readonly<Record<string, string>> = {
  dns: 'Authoritative DNS and dynamic DNS',
  edge: 'The HTTP(S) entry: Caddy',
  data: 'Postgres, Valkey and MinIO',
  search: 'Private metasearch',
  llm: 'LLM inference and the OpenAI-compatible gateway',
  chat: 'Chat UI',
  image: 'Image generation',
  video: 'Video generation',
  monitoring: 'Metrics, logs, alerts and status',
  apps: 'Your own apps',
};

type Where = 'server' | 'gpu' | 'every-node' | 'gpu-nodes' | { readonly with: ServiceName };

interface Placement {
  readonly stack: keyof typeof REFERENCE_STACKS;
  readonly zone: string;
  readonly on: Where;
  /** Services that must be enabled for this one to work. */
  readonly requires?: readonly ServiceName[];
}

export const REFERENCE_PLACEMENT: Readonly<Record<ServiceName, Placement>> = {
  technitium: { stack: 'dns', zone: 'dmz', on: 'server' },
  ddclient: { stack: 'dns', zone: 'dmz', on: { with: 'technitium' }, requires: ['technitium'] },
  caddy: { stack: 'edge', zone: 'edge', on: 'server' },
  postgres: { stack: 'data', zone: 'services', on: 'server' },
  valkey: { stack: 'data', zone: 'services', on: 'server' },
  minio: { stack: 'data', zone: 'services', on: 'server' },
  searxng: { stack: 'search', zone: 'services', on: 'server' },
  ollama: { stack: 'llm', zone: 'gpu', on: 'gpu' },
  'ollama-init': { stack: 'llm', zone: 'gpu', on: { with: 'ollama' }, requires: ['ollama'] },
  litellm: { stack: 'llm', zone: 'edge', on: 'server', requires: ['ollama'] },
  'open-webui': { stack: 'chat', zone: 'edge', on: 'server', requires: ['litellm'] },
  comfyui: { stack: 'image', zone: 'gpu', on: 'gpu' },
  'comfyui-models': { stack: 'image', zone: 'gpu', on: { with: 'comfyui' }, requires: ['comfyui'] },
  mochi: { stack: 'video', zone: 'gpu', on: 'gpu' },
  cogvideox: { stack: 'video', zone: 'gpu', on: 'gpu' },
  prometheus: { stack: 'monitoring', zone: 'monitoring', on: 'server' },
  alertmanager: { stack: 'monitoring', zone: 'monitoring', on: 'server', requires: ['ntfy'] },
  grafana: { stack: 'monitoring', zone: 'monitoring', on: 'server', requires: ['prometheus'] },
  loki: { stack: 'monitoring', zone: 'monitoring', on: 'server' },
  alloy: { stack: 'monitoring', zone: 'monitoring', on: 'every-node', requires: ['loki'] },
  'uptime-kuma': { stack: 'monitoring', zone: 'monitoring', on: 'server' },
  ntfy: { stack: 'monitoring', zone: 'monitoring', on: 'server' },
  'node-exporter': { stack: 'monitoring', zone: 'monitoring', on: 'every-node', requires: ['prometheus'] },
  cadvisor: { stack: 'monitoring', zone: 'monitoring', on: 'every-node', requires: ['prometheus'] },
  'gpu-exporter': { stack: 'monitoring', zone: 'monitoring', on: 'gpu-nodes', requires: ['prometheus'] },
  'blackbox-exporter': { stack: 'monitoring', zone: 'monitoring', on: 'server', requires: ['prometheus'] },
};

/** Built-in sites: host -> service and port. */
const REFERENCE_ROUTES: readonly { host: string; service: ServiceName; port: number; auth: boolean }[] = [
  { host: 'chat', service: 'open-webui', port: 8080, auth: false },
  { host: 'comfyui', service: 'comfyui', port: COMFYUI_PORT, auth: true },
  { host: 'search', service: 'searxng', port: 8080, auth: false },
  { host: 'status', service: 'uptime-kuma', port: 3001, auth: false },
  { host: 'grafana', service: 'grafana', port: 3000, auth: false },
  { host: 'ntfy', service: 'ntfy', port: 80, auth: false },
  { host: 'minio', service: 'minio', port: MINIO_CONSOLE_PORT, auth: false },
  { host: 'dns', service: 'technitium', port: TECHNITIUM_ADMIN_PORT, auth: true },
];

/** A service is on unless the config turns it off; ddclient only makes sense with a public IP. */
export function isEnabled(config: PlatformConfig, name: ServiceName): boolean {
  const explicit = config.services[name]?.enabled;
  if (explicit !== undefined) return explicit;
  if (name === 'ddclient') return config.exposure === 'public';
  return true;
}

/** Build the reference platform from a validated config. Throws ConfigIssues for what only placement can tell. */
export function buildReferencePlatform(config: PlatformConfig): Platform {
  const platform = new Platform({ config });
  const issues: ConfigIssue[] = [];
  const nodes = [...platform.nodes.values()];
  const firstServer = nodes.find((n) => n.role === 'server');
  const firstGpuNode = nodes.find((n) => n.hasGpu && n.role !== 'server') ?? nodes.find((n) => n.hasGpu);
  const built = new Map<ServiceName, Service>();
  const firstDeployedGpuNode = platform.deployedNodes.find((n) => n.hasGpu && n.role !== 'server') ?? platform.deployedNodes.find((n) => n.hasGpu);

  for (const [name, settings] of Object.entries(config.services)) {
    const placement = REFERENCE_PLACEMENT[name as ServiceName];
    const perNode = placement.on === 'every-node' || placement.on === 'gpu-nodes';
    if (settings?.node !== undefined && perNode) {
      issues.push({ path: ['services', name, 'node'], message: `${name} runs one instance on every node (${placement.on}); it cannot be placed on one` });
    }
  }
  for (const [name, placement] of Object.entries(REFERENCE_PLACEMENT) as [ServiceName, Placement][]) {
    if (!isEnabled(config, name)) continue;
    for (const required of placement.requires ?? []) {
      if (!isEnabled(config, required)) {
        issues.push({
          path: ['services', required, 'enabled'],
          message: `${required} is turned off but ${name} needs it; turn off ${name} too (services.${name}.enabled: false) or keep ${required}`,
        });
      }
    }
  }
  if (issues.length > 0) throw new ConfigIssues(issues);

  const stacks = new Map<string, Stack>();
  const stackOf = (name: string) => {
    let stack = stacks.get(name);
    if (!stack) {
      stack = platform.stack(name, REFERENCE_STACKS[name] ?? name);
      stacks.set(name, stack);
    }
    return stack;
  };
  // Declare stacks in reference order so ties in deploy order are stable.
  for (const stack of Object.keys(REFERENCE_STACKS)) {
    const used = Object.entries(REFERENCE_PLACEMENT).some(([n, p]) => p.stack === stack && isEnabled(config, n as ServiceName));
    if (used || (stack === 'apps' && Object.values(config.apps).some((a) => a.kind === 'container'))) stackOf(stack);
  }

  const zoneFor = (name: ServiceName): Zone | undefined => {
    const zoneName = config.services[name]?.zone ?? REFERENCE_PLACEMENT[name].zone;
    const zone = platform.zones.get(zoneName);
    if (!zone) {
      issues.push({
        path: config.services[name]?.zone ? ['services', name, 'zone'] : ['zones'],
        message: `${name} lives in zone "${zoneName}", which is not defined; define it under zones or set services.${name}.zone (zones: ${[...platform.zones.keys()].join(', ')})`,
      });
    }
    return zone;
  };

  const nodesFor = (name: ServiceName): Node[] | undefined => {
    const placement = REFERENCE_PLACEMENT[name];
    const override = config.services[name]?.node;
    if (override !== undefined) return [platform.nodes.get(override) as Node];
    const on = placement.on;
    if (on === 'server') return firstServer ? [firstServer] : undefined;
    if (on === 'gpu') {
      if (!firstGpuNode) {
        issues.push({
          path: ['nodes'],
          message: `${name} needs a GPU but no node lists gpus; add a GPU node or turn it off (services.${name}.enabled: false)`,
        });
        return undefined;
      }
      return [firstGpuNode];
    }
    if (on === 'every-node') return platform.deployedNodes;
    if (on === 'gpu-nodes') return platform.deployedNodes.filter((n) => n.hasGpu);
    return built.get(on.with)?.nodes.slice();
  };

  /** Build `name` if enabled and placeable; `make` receives the common props. */
  const add = <T extends Service>(name: ServiceName, make: (stack: Stack, props: CatalogServiceProps) => T): T | undefined => {
    if (!isEnabled(config, name)) return undefined;
    const zone = zoneFor(name);
    const serviceNodes = nodesFor(name);
    if (!zone || !serviceNodes || serviceNodes.length === 0) return undefined;
    const service = make(stackOf(REFERENCE_PLACEMENT[name].stack), {
      zone,
      nodes: serviceNodes,
      image: config.images[name],
      settings: config.services[name],
    });
    built.set(name, service);
    return service;
  };

  const technitium = add('technitium', (s, p) => new Technitium(s, p));
  if (technitium) add('ddclient', (s, p) => new Ddclient(s, { ...p, dns: technitium }));
  const postgres = add('postgres', (s, p) => new Postgres(s, { ...p, databases: config.postgres.databases, vectors: config.postgres.vectors }));
  const valkey = add('valkey', (s, p) => new Valkey(s, p));
  const minio = add('minio', (s, p) => new Minio(s, { ...p, apiHost: config.minio.host, consoleHost: 'minio', cors: config.minio.cors }));
  const searxng = add('searxng', (s, p) => new Searxng(s, { ...p, valkey }));
  const ollama = add('ollama', (s, p) => new Ollama(s, p));
  if (ollama) {
    add('ollama-init', (s, p) => new OllamaInit(s, { ...p, ollama }));
    const litellm = add('litellm', (s, p) =>
      new Litellm(s, {
        ...p,
        ollama,
        postgres: config.litellm.spendLogs ? postgres : undefined,
        valkey: config.litellm.cache ? valkey : undefined,
      }),
    );
    if (litellm) add('open-webui', (s, p) => new OpenWebUi(s, { ...p, litellm, searxng }));
  }
  if (add('comfyui', (s, p) => new ComfyUi(s, p))) add('comfyui-models', (s, p) => new ComfyUiModels(s, p));
  add('mochi', (s, p) => new Mochi(s, p));
  add('cogvideox', (s, p) => new CogVideoX(s, p));

  const ntfy = add('ntfy', (s, p) => new Ntfy(s, p));
  const prometheus = add('prometheus', (s, p) => new Prometheus(s, p));
  if (ntfy) {
    const alertmanager = add('alertmanager', (s, p) => new Alertmanager(s, { ...p, ntfy }));
    if (alertmanager && prometheus) prometheus.alertTo(alertmanager);
  }
  const loki = add('loki', (s, p) => new Loki(s, p));
  if (prometheus) add('grafana', (s, p) => new Grafana(s, { ...p, prometheus, loki }));
  const uptimeKuma = add('uptime-kuma', (s, p) => new UptimeKuma(s, p));
  add('node-exporter', (s, p) => new NodeExporter(s, p));
  add('cadvisor', (s, p) => new Cadvisor(s, p));
  if (platform.deployedNodes.some((n) => n.hasGpu)) add('gpu-exporter', (s, p) => new GpuExporter(s, p));

  // Apps: containers first (so they can be routed), then their connections once everything exists.
  const apps = new Map<string, UserApp>();
  for (const [name, app] of Object.entries(config.apps)) {
    if (app.kind !== 'container') continue;
    const zone = platform.zones.get(app.zone) as Zone;
    // Like the built-in GPU services, an app with GPUs goes to the first GPU node unless placed.
    const wantsGpu = appGpuCount(app) !== undefined;
    const node = app.node ? (platform.nodes.get(app.node) as Node) : wantsGpu ? firstDeployedGpuNode : firstServer;
    if (!node) continue;
    apps.set(name, new UserApp(stackOf('apps'), name, { config: app, zone, node }));
  }
  for (const [name, app] of Object.entries(config.apps)) {
    const service = apps.get(name);
    if (!service) continue;
    for (const target of app.connects) {
      const to = apps.get(target) ?? built.get(target as ServiceName);
      if (to) service.connectWithEnv(to, { ordering: true });
    }
  }
  // Routes, then the edge that serves them.
  for (const route of REFERENCE_ROUTES) {
    const service = built.get(route.service);
    if (service) platform.addRoute({ host: route.host, service, port: route.port, auth: route.auth, cors: [], configPath: ['services', route.service] });
  }
  // The S3 API answers signed requests only (the signature is its authentication).
  if (minio) platform.addRoute({ host: minio.apiHost, service: minio, port: MINIO_API_PORT, auth: false, cors: [], probePath: MINIO_HEALTH_PATH, configPath: ['minio'] });
  for (const [name, app] of Object.entries(config.apps)) {
    const service = apps.get(name);
    const ports = appPorts(name, app);
    for (const route of appRoutes(name, app)) {
      platform.addRoute({
        host: route.host,
        service,
        port: service && route.port !== undefined ? findAppPort(ports, route.port)?.port : undefined,
        staticRoot: app.kind === 'static' ? app.root : undefined,
        auth: route.auth,
        cors: route.cors,
        configPath: route.configPath,
      });
    }
  }
  // Log shippers on nodes without Loki push through Caddy's authenticated gateway, never to a published Loki.
  const shipsFromElsewhere = loki !== undefined && isEnabled(config, 'alloy') && platform.deployedNodes.some((n) => !loki.nodes.includes(n));
  const caddy = add('caddy', (s, p) => new Caddy(s, { ...p, lokiGateway: shipsFromElsewhere ? loki : undefined }));
  if (loki) {
    const gateway = caddy?.lokiGateway;
    add('alloy', (s, p) => new Alloy(s, { ...p, loki, gateway: gateway ? { via: caddy, port: gateway.port, user: LOKI_GATEWAY_USER, password: gateway.password } : undefined }));
  }
  if (caddy) {
    for (const route of platform.routes) {
      if (route.service && route.port !== undefined) caddy.connect(route.service, { port: route.port });
    }
  }

  if (prometheus) {
    const blackbox = caddy ? add('blackbox-exporter', (s, p) => new BlackboxExporter(s, p)) : undefined;
    if (blackbox) prometheus.probeWith(blackbox);
    for (const service of platform.services) {
      if (service.metrics && service.nodes.every((n) => n.deployed)) prometheus.scrape(service);
    }
  }
  if (uptimeKuma) {
    // Uptime Kuma watches the edge and each routed service from inside, to tell "down" from "unreachable".
    if (caddy) uptimeKuma.connect(caddy, { port: 443 });
    for (const route of platform.routes) {
      if (route.service && route.port !== undefined && route.service !== uptimeKuma) uptimeKuma.connect(route.service, { port: route.port });
    }
  }

  // Built-ins that call your apps (litellm to a vLLM app), once every built-in exists (the edge and
  // the exporters come last): no ordering, since apps often call the built-ins back (an API behind
  // LiteLLM) and stacks must not wait on each other in a circle.
  for (const [name, settings] of Object.entries(config.services) as [ServiceName, ServiceSettings | undefined][]) {
    const service = built.get(name);
    if (!service) continue;
    (settings?.connects ?? []).forEach((target, index) => {
      const to = apps.get(target) ?? built.get(target as ServiceName);
      if (!to) return;
      const path = ['services', name, 'connects', index];
      if (service.external) {
        issues.push({ path, message: `${name} runs on a node the platform does not deploy to (${service.nodes.map((n) => n.name).join(', ')}), so it cannot be given a connection` });
        return;
      }
      const prefix = envPrefix(to.name);
      const taken = [`${prefix}_HOST`, `${prefix}_PORT`, `${prefix}_URL`].filter((v) => v in service.env);
      if (taken.length > 0) {
        issues.push({ path, message: `${name} already sets ${taken.join(', ')} itself; it cannot receive ${to.name}'s address under that name` });
        return;
      }
      service.connectWithEnv(to);
    });
  }
  // An app's volume must not be another service's (on k3s one name in a namespace is one shared claim).
  for (const [name, app] of Object.entries(config.apps)) {
    const service = apps.get(name);
    if (!service) continue;
    app.volumes.forEach((volume, index) => {
      if (volume.name === undefined) return;
      const rendered = appVolumeName(name, volume.name);
      const owner = platform.services.find((s) => s !== service && s.volumes.some((v) => 'name' in v && v.name === rendered));
      if (owner) issues.push({ path: ['apps', name, 'volumes', index, 'name'], message: `it would be the volume ${rendered}, which ${owner.name} already has; choose another name` });
    });
  }

  const routeHosts = new Set(platform.routes.map((r) => r.host));
  config.minio.cors.forEach((host, index) => {
    if (!routeHosts.has(host)) {
      issues.push({ path: ['minio', 'cors', index], message: `no route has host "${host}"; routes: ${[...routeHosts].sort().join(', ')}` });
    }
  });
  if (postgres && Array.isArray(config.postgres.vectors)) {
    const databases = postgres.databases.map((d) => d.name);
    config.postgres.vectors.forEach((name, index) => {
      if (!databases.includes(name)) {
        issues.push({
          path: ['postgres', 'vectors', index],
          message: `no database "${name}": databases are made for apps that connect to postgres and for postgres.databases (now: ${databases.join(', ') || 'none'})`,
        });
      }
    });
  }
  issues.push(...platform.validate());
  if (issues.length > 0) throw new ConfigIssues(issues);
  return platform;
}
