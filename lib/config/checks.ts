import { largestPrefixFor } from '../model/link-plan.js';
import { FLOATING_TAGS } from '../images.js';
import { cidrRange, ipToInt } from '../model/ipv4.js';
import { envPrefix, SERVICE_NAMES } from '../services/names.js';
import { descriptorOf, isEnabled, SERVICE_DESCRIPTORS } from '../services/registry.js';
import { appGpuCount, appHealth, appPorts, appRoutes, appVolumeName, findAppPort } from './apps.js';
import type { ConfigIssue } from './errors.js';
import type { AppConfig, PlatformConfig } from './schema.js';

/*
 * Cross-field checks that need only the config. Checks that need placement (GPU on a node without
 * one, host-port clashes, duplicate routes) run when the construct tree is built, with the same
 * issue shape, so the user sees one kind of message either way.
 */

/** `true` when an image reference carries a concrete version tag (or a digest). */
export function hasConcreteTag(image: string): boolean {
  if (image.includes('@sha256:')) return true;
  const last = image.split('/').pop() ?? '';
  const colon = last.lastIndexOf(':');
  if (colon < 0) return false;
  return !FLOATING_TAGS.includes(last.slice(colon + 1));
}

/**
 * App names the platform's own objects already use. Every object rendered for a service is named
 * after it (`caddy`, `caddy-entry`, `caddy-config`, `postgres-data`, `ollama-ingress`, ...), so a
 * name that is a service name or starts with one and "-" is reserved; so are the per-zone objects
 * (`default-deny`, `allow-dns`, `zone-quota`, `zone-limits`) and Multus networks (`vlan-<id>`).
 */
const RESERVED_APP_NAMES = ['default-deny', 'allow-dns', 'zone-quota', 'zone-limits'];
function reservedAppName(name: string): string | undefined {
  if ((SERVICE_NAMES as readonly string[]).includes(name)) return `"${name}" is the name of a platform service`;
  const owner = SERVICE_NAMES.find((service) => name.startsWith(`${service}-`));
  if (owner) return `names starting with "${owner}-" are the platform's objects of ${owner} (e.g. ${owner}-entry, ${owner}-config)`;
  if (RESERVED_APP_NAMES.includes(name)) return `"${name}" is an object the platform renders in every zone namespace`;
  if (/^vlan-[0-9]+$/.test(name)) return `"${name}" is the name of a Multus network the platform renders`;
  return undefined;
}

/** Namespaces a zone cannot become. */
const RESERVED_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export function checkConfig(config: PlatformConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const nodeNames = Object.keys(config.nodes);
  const zoneNames = Object.keys(config.zones);
  const appNames = Object.keys(config.apps);
  const list = (names: readonly string[]) => (names.length > 0 ? names.join(', ') : '(none)');

  const mustBeNode = (path: (string | number)[], node: string | undefined) => {
    if (node !== undefined && !config.nodes[node]) {
      issues.push({ path, message: `no node is named "${node}"; nodes: ${list(nodeNames)}` });
    } else if (node !== undefined && config.nodes[node]?.role === 'external' && path[0] === 'apps') {
      issues.push({ path, message: `node "${node}" is external (not deployed to); place the app on a server or gpu node` });
    }
  };
  const mustBeZone = (path: (string | number)[], zone: string | undefined) => {
    if (zone !== undefined && !config.zones[zone]) {
      issues.push({ path, message: `no zone is named "${zone}"; zones: ${list(zoneNames)}` });
    }
  };

  for (const zone of Object.keys(config.k3s.quotas)) mustBeZone(['k3s', 'quotas', zone], zone);

  if (!Object.values(config.nodes).some((n) => n.role === 'server')) {
    issues.push({ path: ['nodes'], message: 'at least one node must have role server (it runs everything that needs no GPU)' });
  }

  const seenAddresses = new Map<string, string>();
  for (const [name, node] of Object.entries(config.nodes)) {
    const vendors = [...new Set(node.gpus.map((g) => g.vendor))];
    if (vendors.length > 1) {
      const index = node.gpus.findIndex((g) => g.vendor !== node.gpus[0]?.vendor);
      issues.push({
        path: ['nodes', name, 'gpus', index, 'vendor'],
        got: 'value',
        message: `node "${name}" mixes ${vendors.join(' and ')} GPUs; one vendor per node (each needs its own driver stack and device plugin): put the others in a node of their own`,
      });
    }
    if (node.role === 'gpu' && node.gpus.length === 0) {
      issues.push({ path: ['nodes', name, 'gpus'], message: `node "${name}" has role gpu but lists no GPUs; add its GPUs or use role server` });
    }
    const other = seenAddresses.get(node.address);
    if (other) issues.push({ path: ['nodes', name, 'address'], message: `${node.address} is already the address of node "${other}"` });
    seenAddresses.set(node.address, name);
    if (config.exposure === 'tailnet' && node.role !== 'external' && !node.tailscaleAddress) {
      issues.push({
        path: ['nodes', name],
        message: `exposure is tailnet, so node "${name}" needs tailscaleAddress (its 100.x.y.z address): ports bind there`,
      });
    }
  }

  if (config.tls === 'acme' && config.exposure !== 'public') {
    issues.push({
      path: ['tls'],
      message: `acme needs the edge reachable from the internet, but exposure is ${config.exposure}; use tls: internal`,
    });
  }

  const vlans = new Map<number, string>();
  const subnets: { zone: string; cidr: string; range: [number, number] }[] = [];
  for (const [name, zone] of Object.entries(config.zones)) {
    if (zone.vlan !== undefined) {
      const other = vlans.get(zone.vlan);
      if (other) issues.push({ path: ['zones', name, 'vlan'], message: `VLAN ${zone.vlan} is already used by zone "${other}"` });
      vlans.set(zone.vlan, name);
    }
    if (RESERVED_NAMESPACES.includes(name) || name === config.k3s.argocd.namespace) {
      issues.push({
        path: ['zones', name],
        message: `zone "${name}" would be the Kubernetes namespace ${name}, which ${name === config.k3s.argocd.namespace ? 'ArgoCD runs in' : 'Kubernetes reserves'}; rename the zone`,
      });
    }
    if (zone.multus && (zone.vlan === undefined || zone.subnet === undefined)) {
      issues.push({ path: ['zones', name, 'multus'], message: `Multus attaches pods to a VLAN: zone "${name}" needs both vlan and subnet` });
    }
    if (zone.driver === 'macvlan' && (zone.vlan === undefined || zone.subnet === undefined)) {
      issues.push({ path: ['zones', name, 'driver'], message: `macvlan needs both vlan and subnet on zone "${name}"` });
    } else if (zone.driver === 'macvlan' && zone.subnet) {
      const deployed = Object.values(config.nodes).filter((n) => n.role !== 'external').length;
      const prefix = Number(zone.subnet.split('/')[1]);
      if (prefix > largestPrefixFor(deployed)) {
        issues.push({
          path: ['zones', name, 'subnet'],
          message: `${zone.subnet} is too small to give each of ${deployed} nodes its own address range; use a /${largestPrefixFor(deployed)} or larger`,
        });
      }
    }
    if (zone.gateway && zone.subnet) {
      const [start, end] = cidrRange(zone.subnet);
      const gw = ipToInt(zone.gateway);
      if (gw < start || gw > end) issues.push({ path: ['zones', name, 'gateway'], message: `${zone.gateway} is outside the zone subnet ${zone.subnet}` });
    }
    if (zone.subnet) {
      const range = cidrRange(zone.subnet);
      for (const other of subnets) {
        if (range[0] <= other.range[1] && other.range[0] <= range[1]) {
          issues.push({ path: ['zones', name, 'subnet'], message: `${zone.subnet} overlaps ${other.cidr} of zone "${other.zone}"` });
        }
      }
      subnets.push({ zone: name, cidr: zone.subnet, range });
    }
  }

  const gpuServices = SERVICE_DESCRIPTORS.filter((d) => 'gpus' in d && d.gpus !== undefined).map((d) => d.name);
  const cpuServices = SERVICE_DESCRIPTORS.filter((d) => 'cpuFallback' in d && d.cpuFallback === true).map((d) => d.name);
  for (const [service, settings] of Object.entries(config.services)) {
    mustBeNode(['services', service, 'node'], settings?.node);
    mustBeZone(['services', service, 'zone'], settings?.zone);
    // GPUs go only to kinds that can use one; anywhere else they would be dropped without a word.
    if (descriptorOf(service)?.gpus === undefined) {
      for (const key of ['gpus', 'gpuDevices'] as const) {
        if (settings?.[key] === undefined) continue;
        issues.push({
          path: ['services', service, key],
          got: 'value',
          message: `${service} cannot use a GPU; services that take GPUs: ${gpuServices.join(', ')}`,
        });
      }
    } else if (settings?.gpus === 0) {
      if (!descriptorOf(service)?.cpuFallback) {
        issues.push({
          path: ['services', service, 'gpus'],
          got: 'value',
          message: `${service} runs only on a GPU; gpus: 0 (run on the CPU) is for ${cpuServices.join(', ')}. Turn it off instead (services.${service}.enabled: false)`,
        });
      } else if (settings.gpuDevices !== undefined) {
        issues.push({ path: ['services', service, 'gpuDevices'], message: `${service} runs on the CPU (gpus: 0); remove gpuDevices or ask for GPUs` });
      }
    }
  }

  for (const [service, image] of Object.entries(config.images)) {
    if (image && !hasConcreteTag(image)) {
      issues.push({
        path: ['images', service],
        message: `"${image}" has no concrete version tag; pin one such as ${service}:1.2.3 (floating tags: ${FLOATING_TAGS.join(', ')})`,
        rule: 'image-floating-tag',
      });
    }
  }

  const modelNames = new Set<string>();
  config.models.ollama.forEach((model, index) => {
    for (const name of [model.name, model.alias].filter((n): n is string => n !== undefined)) {
      if (modelNames.has(name)) {
        issues.push({ path: ['models', 'ollama', index, model.alias === name ? 'alias' : 'name'], message: `"${name}" is listed twice` });
      }
      modelNames.add(name);
    }
  });
  config.models.ollama.forEach((model, index) => {
    model.fallbacks.forEach((fallback, f) => {
      if (!modelNames.has(fallback)) {
        issues.push({
          path: ['models', 'ollama', index, 'fallbacks', f],
          message: `no model or alias is named "${fallback}"; known: ${list([...modelNames])}`,
        });
      }
    });
  });

  // LiteLLM counts a key's per-model use under the name a client asks for: the served name.
  const served = config.models.ollama.map((m) => m.alias ?? m.name);
  for (const model of Object.keys(config.litellm.keyLimits.models)) {
    if (!served.includes(model)) {
      issues.push({ path: ['litellm', 'keyLimits', 'models', model], message: `LiteLLM serves no model named "${model}"; served: ${list(served)}` });
    }
  }

  const enabledServices = SERVICE_NAMES.filter((s) => isEnabled(config, s));
  /** Why a service is off: the config says so, or its descriptor leaves it off by default (catalog services). */
  const offBecause = (name: string) =>
    config.services[name as keyof typeof config.services]?.enabled === false ? `services.${name}.enabled: false` : `off by default; services.${name}.enabled: true turns it on`;
  /** A connection target: an enabled service or a container app, never itself. */
  const checkTarget = (from: string, path: (string | number)[], target: string) => {
    const service = (SERVICE_NAMES as readonly string[]).includes(target);
    if (service && !isEnabled(config, target)) {
      issues.push({
        path,
        message: `"${target}" is turned off (${offBecause(target)}); turn it on or remove the connection`,
        rule: 'connection-dangling',
      });
    } else if (!service && !appNames.includes(target)) {
      issues.push({
        path,
        message: `no enabled service or app is named "${target}"; apps: ${list(appNames)}; services: ${enabledServices.join(', ')}`,
        rule: 'connection-dangling',
      });
    } else if (target === from) {
      issues.push({ path, message: `${from} cannot connect to itself` });
    } else if (config.apps[target]?.kind === 'static') {
      issues.push({ path, message: `"${target}" is a static app; it has no port to connect to` });
    } else if (config.apps[target] && appPorts(target, config.apps[target]).length === 0) {
      issues.push({ path, message: `app "${target}" listens on no port (it has no ports); nothing can connect to it` });
    }
  };
  /** The variables a connection sets must not be set by hand. */
  const checkGenerated = (target: string, env: Readonly<Record<string, string>>, secrets: readonly string[], at: (...rest: (string | number)[]) => (string | number)[]) => {
    for (const generated of ['HOST', 'PORT', 'URL'].map((suffix) => `${envPrefix(target)}_${suffix}`)) {
      if (generated in env || secrets.includes(generated)) {
        issues.push({
          path: generated in env ? at('env', generated) : at('secrets'),
          message: `${generated} is set by the connection to ${target}; remove it or choose another name`,
        });
      }
    }
  };

  for (const [service, settings] of Object.entries(config.services)) {
    const at = (...rest: (string | number)[]) => ['services', service, ...rest];
    const connects = settings?.connects ?? [];
    if (connects.length > 0 && !isEnabled(config, service)) {
      issues.push({ path: at('connects'), message: `${service} is turned off (${offBecause(service)}), so it connects to nothing; remove connects or turn it on` });
    }
    connects.forEach((target, index) => {
      checkTarget(service, at('connects', index), target);
      checkGenerated(target, settings?.env ?? {}, [], at);
    });
  }

  const volumeOwners = new Map<string, string>();
  for (const [name, app] of Object.entries(config.apps)) {
    const at = (...rest: (string | number)[]) => ['apps', name, ...rest];
    const reserved = reservedAppName(name);
    if (reserved) issues.push({ path: at(), message: `${reserved}; choose another app name` });
    for (const key of Object.keys(app.env)) {
      if (app.secrets.includes(key)) {
        issues.push({ path: at('env', key), message: `${key} is listed under secrets, so its value comes from the secret; remove it from env`, rule: 'secret-literal' });
      }
    }
    mustBeNode(at('node'), app.node);
    mustBeZone(at('zone'), app.zone);
    if (app.route && app.routes) issues.push({ path: at('routes'), message: 'route is the shorthand for routes with one entry; use one of them' });
    if (app.kind === 'container') {
      if (!app.image) issues.push({ path: at('image'), message: 'a container app needs an image with a concrete version tag', got: 'missing' });
      else if (!hasConcreteTag(app.image)) {
        issues.push({ path: at('image'), message: `"${app.image}" has no concrete version tag; pin one such as my-app:1.2.3`, rule: 'image-floating-tag' });
      }
      if (app.port !== undefined && app.ports) issues.push({ path: at('ports'), message: `port (${app.port}) is the shorthand for ports with one HTTP port; give one of them, not both` });
      else if (app.port === undefined && !app.ports && app.health?.command === undefined) {
        issues.push({ path: at('port'), message: 'a container app needs the port it listens on (port, or ports), or health: {command: [...]} when it listens on none', got: 'missing' });
      }
      if (app.root !== undefined) issues.push({ path: at('root'), message: 'root is for static apps; a container app serves its own files' });
      issues.push(...containerAppIssues(config, name, app));
      app.volumes.forEach((volume, index) => {
        if (volume.name === undefined) return;
        const rendered = appVolumeName(name, volume.name);
        const other = volumeOwners.get(rendered);
        if (other) issues.push({ path: at('volumes', index, 'name'), message: `it would be the volume ${rendered}, which app ${other} already has; choose another name` });
        volumeOwners.set(rendered, name);
      });
    } else {
      if (!app.root) issues.push({ path: at('root'), message: 'a static app needs root: the host folder with its built files', got: 'missing' });
      if (!app.route) issues.push({ path: at('route'), message: 'a static app needs a route: Caddy serves it at <host>.<domain>', got: 'missing' });
      if (app.image !== undefined) issues.push({ path: at('image'), message: 'a static app has no image: Caddy serves its files' });
      if (app.port !== undefined) issues.push({ path: at('port'), message: 'a static app has no port: Caddy serves its files' });
      if (app.connects.length > 0) issues.push({ path: at('connects'), message: 'a static app runs in the browser; list what it calls under its API app' });
      const containerOnly = ['ports', 'command', 'args', 'gpus', 'gpuDevices', 'vramGb', 'health', 'healthPath', 'metrics', 'routes'] as const;
      for (const key of containerOnly) {
        if (app[key] !== undefined) issues.push({ path: at(key), message: `${key} is for container apps; a static app is files Caddy serves` });
      }
      if (app.volumes.length > 0) issues.push({ path: at('volumes'), message: 'volumes are for container apps; a static app is files Caddy serves' });
      if (app.auth === 'login' || app.auth === 'token') {
        issues.push({ path: at('auth'), message: `a static app is files Caddy serves and cannot check a ${app.auth} itself; use basic (Caddy asks for a password) or none` });
      } else if (app.auth === 'basic' && app.route?.auth === false) {
        issues.push({ path: at('route', 'auth'), message: 'the app\'s auth is basic (Caddy asks for the password), so its route cannot turn it off; set apps.' + name + '.auth to none' });
      }
    }
    app.connects.forEach((target, index) => {
      checkTarget(name, at('connects', index), target);
      checkGenerated(target, app.env, app.secrets, at);
    });
  }

  return issues;
}

/** The cross-field rules of one container app's ports, health, metrics, routes, volumes and GPUs. */
function containerAppIssues(config: PlatformConfig, name: string, app: AppConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const at = (...rest: (string | number)[]) => ['apps', name, ...rest];
  const ports = appPorts(name, app);
  const describePorts = () => ports.map((p) => `${p.name} ${p.port}/${p.protocol}`).join(', ') || 'none';

  const names = new Map<string, number>();
  const numbers = new Map<string, number>();
  app.ports?.forEach((p, index) => {
    const named = names.get(p.name);
    if (named !== undefined) issues.push({ path: at('ports', index, 'name'), message: `port name "${p.name}" is already used by ports[${named}]; each port needs its own name` });
    else names.set(p.name, index);
    // http and tcp are both TCP: one listening socket per number and transport.
    const key = `${p.port}/${p.protocol === 'udp' ? 'udp' : 'tcp'}`;
    const numbered = numbers.get(key);
    if (numbered !== undefined) issues.push({ path: at('ports', index, 'port'), message: `${key} is already ports[${numbered}]; a port number is listed once per protocol` });
    else numbers.set(key, index);
  });
  issues.push(...volumeAndGpuIssues(config, name, app));
  if (ports.length === 0) {
    // A worker that listens on nothing: only a command can tell it is healthy, and nothing can dial it.
    if (app.health?.command === undefined) return issues;
    for (const key of ['routes', 'route', 'metrics'] as const) {
      if (app[key] !== undefined) issues.push({ path: at(key), message: `the app listens on no port; give ports to have ${key}` });
    }
    return issues;
  }

  /** A port number that must be one of the app's TCP (http or tcp) ports. */
  const tcpPort = (path: (string | number)[], port: number | undefined, what: string, needHttp = false) => {
    const found = port === undefined ? undefined : findAppPort(ports, port);
    if (!found) issues.push({ path, message: `${what} port ${port} is not one of the app's TCP ports (${describePorts()})` });
    else if (needHttp && found.protocol !== 'http') issues.push({ path, message: `${what} needs an http port, but ${found.name} ${found.port} is ${found.protocol}` });
  };

  if (app.health && app.healthPath !== undefined) issues.push({ path: at('healthPath'), message: 'healthPath is the shorthand for health: {http: <path>}; use one of them' });
  if (app.health) {
    const kinds = (['http', 'tcp', 'command'] as const).filter((k) => app.health?.[k] !== undefined);
    if (kinds.length !== 1) {
      issues.push({ path: at('health'), message: `give exactly one of http, tcp or command (got ${kinds.length === 0 ? 'none' : kinds.join(' and ')})` });
    } else {
      if (app.health.port !== undefined && !app.health.http) issues.push({ path: at('health', 'port'), message: 'port belongs to an http check; a tcp check names its port itself ({tcp: <port>})' });
      if (app.health.via !== undefined && app.health.command) issues.push({ path: at('health', 'via'), message: 'via picks the program for an http or tcp check; a command check runs its own' });
      const check = appHealth(name, app);
      if (check.check.kind === 'http') tcpPort(at(...check.configPath.slice(2)), check.check.port, 'the health check', true);
      if (check.check.kind === 'tcp') tcpPort(at('health', 'tcp'), check.check.port, 'the health check');
    }
  } else if (app.healthPath !== undefined) {
    tcpPort(at('healthPath'), ports[0]?.port, 'the health check', true);
  } else if (ports[0]?.protocol !== 'http') {
    issues.push({ path: at('health'), message: `the first port (${ports[0]?.name} ${ports[0]?.port}) is ${ports[0]?.protocol}, so the default HTTP check does not apply; give health: {tcp: <port>} or {command: [...]}`, got: 'missing' });
  }

  if (app.metrics) tcpPort(at('metrics', app.metrics.port !== undefined ? 'port' : 'path'), app.metrics.port ?? ports[0]?.port, 'the metrics', true);

  const routes = appRoutes(name, app);
  for (const route of routes) {
    const path = [...route.configPath];
    const port = route.port === undefined ? undefined : findAppPort(ports, route.port);
    if (!port) issues.push({ path: [...path, 'port'], message: `${route.port} is not one of the app's ports (${describePorts()})` });
    else if (port.protocol !== 'http') issues.push({ path: [...path, 'port'], message: `Caddy proxies HTTP, but ${port.name} ${port.port} is ${port.protocol}; route an http port` });
    if (port?.auth === 'basic' && route.explicitAuth === false) {
      issues.push({ path: [...path, 'auth'], message: `${port.name} ${port.port} authenticates with basic (Caddy asks for the password), so its routes cannot turn it off; set the auth of the app or port to what it does itself` });
    }
  }
  if (app.auth === 'basic' && routes.length === 0) {
    issues.push({ path: at('auth'), message: 'basic means Caddy asks for a password on the app\'s routes, but it has none; add a route or say what the app does itself (none, login, token)' });
  }
  app.ports?.forEach((port, index) => {
    if (port.auth !== 'basic' || routes.some((r) => r.port !== undefined && findAppPort(ports, r.port)?.name === port.name)) return;
    issues.push({
      path: at('ports', index, 'auth'),
      message: `basic means Caddy asks for a password on the routes to ${port.name}, but none goes there; route it or say what the port does itself (none, login, token)`,
    });
  });

  return issues;
}

/** Volumes (one of name or hostPath, each name and mount path once) and GPUs (vramGb needs GPUs; a GPU node must exist). */
function volumeAndGpuIssues(config: PlatformConfig, name: string, app: AppConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const at = (...rest: (string | number)[]) => ['apps', name, ...rest];
  const volumeNames = new Map<string, number>();
  const mountPaths = new Map<string, number>();
  app.volumes.forEach((volume, index) => {
    const here = (...rest: (string | number)[]) => at('volumes', index, ...rest);
    if ((volume.name === undefined) === (volume.hostPath === undefined)) {
      issues.push({ path: here(), message: 'give exactly one of name (a volume the platform keeps) or hostPath (a folder of the node)' });
    }
    if (volume.hostPath !== undefined) {
      if (volume.sizeGb !== undefined) issues.push({ path: here('sizeGb'), message: 'a host folder is not sized by the platform; sizeGb is for named volumes' });
      if (volume.backup !== undefined) issues.push({ path: here('backup'), message: 'a host folder is yours to back up; backup is for named volumes' });
    }
    if (volume.name !== undefined) {
      const other = volumeNames.get(volume.name);
      if (other !== undefined) issues.push({ path: here('name'), message: `volume "${volume.name}" is already volumes[${other}]` });
      else volumeNames.set(volume.name, index);
    }
    const mounted = mountPaths.get(volume.mountPath);
    if (mounted !== undefined) issues.push({ path: here('mountPath'), message: `${volume.mountPath} is already where volumes[${mounted}] is mounted` });
    else mountPaths.set(volume.mountPath, index);
  });

  const gpuCount = appGpuCount(app);
  if (app.vramGb !== undefined && gpuCount === undefined) issues.push({ path: at('vramGb'), message: 'vramGb is the VRAM the app keeps on its GPUs; give gpus (or gpuDevices) too' });
  if (typeof app.gpus === 'number' && app.gpuDevices && app.gpuDevices.length !== app.gpus) {
    issues.push({ path: at('gpuDevices'), message: `pins ${app.gpuDevices.length} GPU(s) but gpus is ${app.gpus}; list as many devices as GPUs, or leave gpus out` });
  }
  if (gpuCount !== undefined && !Object.values(config.nodes).some((n) => n.role !== 'external' && n.gpus.length > 0)) {
    issues.push({ path: at(app.gpus !== undefined ? 'gpus' : 'gpuDevices'), message: `${name} needs a GPU but no deployed node lists gpus; add a GPU node or drop gpus` });
  }
  return issues;
}
