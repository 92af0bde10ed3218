import { ConfigIssues, type ConfigIssue } from '../lib/config/errors.js';
import { appGpuCount, appPorts, appRoutes, appVolumeName, findAppPort } from '../lib/config/apps.js';
import type { PlatformConfig, ServiceSettings } from '../lib/config/schema.js';
import type { Node } from '../lib/model/node.js';
import { Platform } from '../lib/model/platform.js';
import type { Service } from '../lib/model/service.js';
import type { Stack } from '../lib/model/stack.js';
import { envPrefix } from '../lib/model/values.js';
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

const vendorName = (vendor: string) => (vendor === 'amd' ? 'AMD' : 'NVIDIA');

/** Stacks in the order they are declared (deploy order is derived from connections). */
export const REFERENCE_STACKS: Readonly<Record<string, string>> = {
  dns: 'Authoritative DNS and dynamic DNS',
  edge: 'The HTTP(S) entry: Caddy',
  data: 'Postgres, Valkey and MinIO',
  search: 'Private metasearch',
  llm: 'LLM inference and the OpenAI-compatible gateway',
  chat: 'Chat UI',
  automation: 'Workflow automation',
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
  /** Where a GPU service goes unless placed: a dedicated GPU node before a server that has a GPU. */
  const firstGpuNodeOf = (gpuNodes: readonly Node[]) => gpuNodes.find((n) => n.role !== 'server') ?? gpuNodes[0];
  const firstDeployedGpuNode = firstGpuNodeOf(platform.deployedNodes.filter((n) => n.hasGpu));
  /** GPU nodes of a vendor the kind's image runs on. */
  const vendorsOf = (d: ServiceDescriptor) => d.gpuVendors ?? ['nvidia'];
  const gpuNodesFor = (d: ServiceDescriptor) => nodes.filter((n) => n.gpuVendor !== undefined && vendorsOf(d).includes(n.gpuVendor));
  const firstGpuNodeFor = (d: ServiceDescriptor) => firstGpuNodeOf(gpuNodesFor(d));
  const anyGpuNode = nodes.some((n) => n.hasGpu);
  /** Why a GPU kind has no place: no GPU at all, or none of a vendor its image runs on. */
  const noPlaceReason = (d: ServiceDescriptor) =>
    anyGpuNode ? `no node has a GPU its image runs on (${vendorsOf(d).map(vendorName).join(', ')})` : 'no node has a GPU';
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
  // A GPU-only kind has no place on a platform without GPU nodes; its stack is declared only for what can run.
  const placeable = (d: ServiceDescriptor): boolean =>
    (d.on === 'gpu' ? d.cpuFallback === true || firstGpuNodeFor(d) !== undefined : d.on === 'gpu-nodes' ? gpuNodesFor(d).some((n) => n.deployed) : true) &&
    (d.requires ?? []).every((r) => placeable(descriptorOf(r) as ServiceDescriptor));
  for (const stack of Object.keys(REFERENCE_STACKS)) {
    const used = (SERVICE_DESCRIPTORS as readonly ServiceDescriptor[]).some((d) => d.stack === stack && enabled(d.name) && placeable(d));
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

  /** Enabled by `services.<name>.enabled: true`, not only by default: leaving it out would surprise. */
  const askedFor = (name: string) => config.services[name as ServiceName]?.enabled === true;

  /**
   * A kind that can run on the CPU (`cpuFallback`) goes there when `services.<name>.gpus: 0`, when
   * no node lists GPUs, or when the node it is moved to has none.
   */
  const onCpu = (descriptor: ServiceDescriptor): boolean => {
    if (!descriptor.cpuFallback || descriptor.on !== 'gpu') return false;
    const settings = config.services[descriptor.name as ServiceName];
    if (settings?.gpus === 0) return true;
    if (settings?.node !== undefined) return !platform.nodes.get(settings.node)?.hasGpu;
    return !firstGpuNodeFor(descriptor);
  };

  /** A GPU kind no node can hold: an error when asked for explicitly, else left out and named in the summary. */
  const noGpuFor = (descriptor: ServiceDescriptor): undefined => {
    const name = descriptor.name;
    if (askedFor(name)) {
      const message = anyGpuNode
        ? `${name} runs only on ${vendorsOf(descriptor).map(vendorName).join(' or ')} GPUs and no node has one; add such a node (nodes.<name>.gpus[].vendor) or drop services.${name}.enabled: true (it is left out on its own then)`
        : `${name} runs only on a GPU and no node lists gpus; add a GPU to a node (nodes.<name>.gpus) or drop services.${name}.enabled: true (without a GPU node it is left out on its own)`;
      issues.push({ path: ['services', name, 'enabled'], message });
    } else {
      platform.leaveOut(name, noPlaceReason(descriptor));
    }
    return undefined;
  };

  const nodesFor = (descriptor: ServiceDescriptor, cpu: boolean): Node[] | undefined => {
    const name = descriptor.name;
    const override = config.services[name as ServiceName]?.node;
    if (override !== undefined) return [platform.nodes.get(override) as Node];
    const on = descriptor.on;
    if (on === 'server' || cpu) return firstServer ? [firstServer] : undefined;
    if (on === 'gpu') {
      const gpuNode = firstGpuNodeFor(descriptor);
      return gpuNode ? [gpuNode] : noGpuFor(descriptor);
    }
    if (on === 'every-node') return platform.deployedNodes;
    if (on === 'gpu-nodes') {
      const gpuNodes = gpuNodesFor(descriptor).filter((n) => n.deployed);
      if (gpuNodes.length > 0) return gpuNodes;
      // One vendor's exporter where every GPU is of the other: that one's exporter covers them.
      if (anyGpuNode && !askedFor(name)) return undefined;
      return noGpuFor(descriptor);
    }
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
    if (!enabled(name)) return;
    const leftOutNeed = (descriptor.requires ?? []).find((r) => platform.leftOut.some((l) => l.service === r));
    if (leftOutNeed !== undefined) {
      if (askedFor(name)) {
        issues.push({
          path: ['services', name, 'enabled'],
          message: `${name} needs ${leftOutNeed}, which runs only on a GPU, and no node lists gpus; add a GPU to a node (nodes.<name>.gpus) or drop services.${name}.enabled: true (without a GPU node it is left out on its own)`,
        });
      } else {
        platform.leaveOut(name, `needs ${leftOutNeed}`);
      }
      return;
    }
    if ((descriptor.requires ?? []).some((r) => !built.has(r))) return;
    const zone = zoneFor(descriptor);
    const cpu = onCpu(descriptor);
    const serviceNodes = nodesFor(descriptor, cpu);
    if (!zone || !serviceNodes || serviceNodes.length === 0) return;
    const service = descriptor.create({
      ...context,
      stack: stackOf(descriptor.stack),
      props: {
        descriptor,
        zone,
        nodes: serviceNodes,
        image: config.images[name as ServiceName],
        settings: config.services[name as ServiceName],
        onCpu: cpu,
      },
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
      const to = apps.get(target) ?? built.get(target);
      if (to) service.connectWithEnv(to, { ordering: true });
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
  for (const descriptor of order.filter((d) => d.edge)) build(descriptor);
  for (const descriptor of order) {
    const service = built.get(descriptor.name);
    if (service && descriptor.finish) descriptor.finish(context, service);
  }

  // Built-ins that call your apps (litellm to a vLLM app), once every built-in exists (the edge and
  // the exporters come last): no ordering, since apps often call the built-ins back (an API behind
  // LiteLLM) and stacks must not wait on each other in a circle.
  for (const [name, settings] of Object.entries(config.services) as [ServiceName, ServiceSettings | undefined][]) {
    const service = built.get(name);
    if (!service) continue;
    (settings?.connects ?? []).forEach((target, index) => {
      const to = apps.get(target) ?? built.get(target);
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
