import { ConfigIssues, type ConfigIssue } from '../lib/config/errors.js';
import type { PlatformConfig } from '../lib/config/schema.js';
import type { Node } from '../lib/model/node.js';
import { Platform } from '../lib/model/platform.js';
import type { Service } from '../lib/model/service.js';
import type { Stack } from '../lib/model/stack.js';
import type { Zone } from '../lib/model/zone.js';
import type { BuildContext, ServiceDescriptor } from '../lib/services/descriptor.js';
import type { Postgres } from '../lib/services/postgres.js';
import { buildOrder, descriptorOf, isEnabled, SERVICE_DESCRIPTORS, type ServiceName } from '../lib/services/registry.js';
import { UserApp } from '../lib/services/user-app.js';
import { backupPlan } from '../lib/services/backup.js';

export { isEnabled };

/*
 * The reference platform: its stacks, and the builder that walks the service descriptors
 * (lib/services/registry.ts) in dependency order: each enabled kind is placed by its descriptor's
 * zone and node role (or `services.<name>`), built, and wired by its own `create`. Nothing here
 * names a service: what a service is and whom it dials live in its file under lib/services/.
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

/** Build the reference platform from a validated config. Throws ConfigIssues for what only placement can tell. */
export function buildReferencePlatform(config: PlatformConfig): Platform {
  const platform = new Platform({ config });
  const issues: ConfigIssue[] = [];
  const nodes = [...platform.nodes.values()];
  const firstServer = nodes.find((n) => n.role === 'server');
  const firstGpuNode = nodes.find((n) => n.hasGpu && n.role !== 'server') ?? nodes.find((n) => n.hasGpu);
  const built = new Map<string, Service>();
  const enabled = (name: string) => isEnabled(config, name);

  for (const [name, settings] of Object.entries(config.services)) {
    const descriptor = descriptorOf(name) as ServiceDescriptor;
    const perNode = descriptor.on === 'every-node' || descriptor.on === 'gpu-nodes';
    if (settings?.node !== undefined && perNode) {
      issues.push({ path: ['services', name, 'node'], message: `${name} runs one instance on every node (${descriptor.on}); it cannot be placed on one` });
    }
  }
  for (const descriptor of SERVICE_DESCRIPTORS as readonly ServiceDescriptor[]) {
    if (!enabled(descriptor.name)) continue;
    for (const required of descriptor.requires ?? []) {
      if (!enabled(required)) {
        issues.push({
          path: ['services', required, 'enabled'],
          message: `${required} is turned off but ${descriptor.name} needs it; turn off ${descriptor.name} too (services.${descriptor.name}.enabled: false) or keep ${required}`,
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
    const used = (SERVICE_DESCRIPTORS as readonly ServiceDescriptor[]).some((d) => d.stack === stack && enabled(d.name));
    if (used || (stack === 'apps' && Object.values(config.apps).some((a) => a.kind === 'container'))) stackOf(stack);
  }

  const zoneFor = (descriptor: ServiceDescriptor): Zone | undefined => {
    const name = descriptor.name;
    const zoneName = config.services[name as ServiceName]?.zone ?? descriptor.zone;
    const zone = platform.zones.get(zoneName);
    if (!zone) {
      issues.push({
        path: config.services[name as ServiceName]?.zone ? ['services', name, 'zone'] : ['zones'],
        message: `${name} lives in zone "${zoneName}", which is not defined; define it under zones or set services.${name}.zone (zones: ${[...platform.zones.keys()].join(', ')})`,
      });
    }
    return zone;
  };

  const nodesFor = (descriptor: ServiceDescriptor): Node[] | undefined => {
    const name = descriptor.name;
    const override = config.services[name as ServiceName]?.node;
    if (override !== undefined) return [platform.nodes.get(override) as Node];
    const on = descriptor.on;
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

  const context: BuildContext = {
    platform,
    config,
    built: <S extends Service = Service>(name: string) => built.get(name) as S | undefined,
    isEnabled: enabled,
  };

  /** Build a kind if enabled, its required services built, and placeable. */
  const build = (descriptor: ServiceDescriptor) => {
    const name = descriptor.name;
    if (!enabled(name) || (descriptor.requires ?? []).some((r) => !built.has(r))) return;
    const zone = zoneFor(descriptor);
    const serviceNodes = nodesFor(descriptor);
    if (!zone || !serviceNodes || serviceNodes.length === 0) return;
    const service = descriptor.create({
      ...context,
      stack: stackOf(descriptor.stack),
      props: { descriptor, zone, nodes: serviceNodes, image: config.images[name as ServiceName], settings: config.services[name as ServiceName] },
    });
    if (service) built.set(name, service);
  };

  const order = buildOrder();
  for (const descriptor of order.filter((d) => !d.edge)) build(descriptor);

  // Apps: containers first (so they can be routed), then their connections once everything exists.
  const apps = new Map<string, UserApp>();
  for (const [name, app] of Object.entries(config.apps)) {
    if (app.kind !== 'container') continue;
    const zone = platform.zones.get(app.zone) as Zone;
    const node = app.node ? (platform.nodes.get(app.node) as Node) : firstServer;
    if (!node) continue;
    apps.set(name, new UserApp(stackOf('apps'), name, { config: app, zone, node }));
  }
  for (const [name, app] of Object.entries(config.apps)) {
    const service = apps.get(name);
    if (!service) continue;
    for (const target of app.connects) {
      const to = apps.get(target) ?? built.get(target);
      if (to) service.connectWithEnv(to);
    }
  }

  // Routes of the built-in services (by rank), then the apps' routes; then the edge that serves them.
  const builtInRoutes = order
    .flatMap((d) => (built.has(d.name) ? (d.routes ?? []).map((route) => ({ route, descriptor: d })) : []))
    .sort((a, b) => a.route.rank - b.route.rank);
  for (const { route, descriptor } of builtInRoutes) {
    platform.addRoute({
      host: typeof route.host === 'function' ? route.host(config) : route.host,
      service: built.get(descriptor.name),
      port: route.port,
      auth: route.auth === 'basic',
      cors: [],
      probePath: route.probePath,
      configPath: route.configPath ?? ['services', descriptor.name],
    });
  }
  for (const [name, app] of Object.entries(config.apps)) {
    if (!app.route) continue;
    const service = apps.get(name);
    platform.addRoute({
      host: app.route.host,
      service,
      port: service ? app.port : undefined,
      staticRoot: app.kind === 'static' ? app.root : undefined,
      auth: app.route.auth,
      cors: app.route.cors,
      configPath: ['apps', name, 'route'],
    });
  }
  for (const descriptor of order.filter((d) => d.edge)) build(descriptor);
  for (const descriptor of order) {
    const service = built.get(descriptor.name);
    if (service && descriptor.finish) descriptor.finish(context, service);
  }

  const routeHosts = new Set(platform.routes.map((r) => r.host));
  config.minio.cors.forEach((host, index) => {
    if (!routeHosts.has(host)) {
      issues.push({ path: ['minio', 'cors', index], message: `no route has host "${host}"; routes: ${[...routeHosts].sort().join(', ')}` });
    }
  });
  const postgres = built.get('postgres') as Postgres | undefined;
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
  // The backup plan declares its secrets (the repository password, S3 keys) with the others.
  backupPlan(platform);
  issues.push(...platform.validate());
  if (issues.length > 0) throw new ConfigIssues(issues);
  return platform;
}
