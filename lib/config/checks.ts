import { largestPrefixFor } from '../compose/macvlan.js';
import { FLOATING_TAGS } from '../images.js';
import { cidrRange, ipToInt } from '../model/ipv4.js';
import { envPrefix, SERVICE_NAMES } from '../services/names.js';
import { descriptorOf, isEnabled, SERVICE_DESCRIPTORS } from '../services/registry.js';
import type { ConfigIssue } from './errors.js';
import type { PlatformConfig } from './schema.js';

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
    if (app.kind === 'container') {
      if (!app.image) issues.push({ path: at('image'), message: 'a container app needs an image with a concrete version tag', got: 'missing' });
      else if (!hasConcreteTag(app.image)) {
        issues.push({ path: at('image'), message: `"${app.image}" has no concrete version tag; pin one such as my-app:1.2.3`, rule: 'image-floating-tag' });
      }
      if (app.port === undefined) issues.push({ path: at('port'), message: 'a container app needs the port it listens on', got: 'missing' });
      if (app.root !== undefined) issues.push({ path: at('root'), message: 'root is for static apps; a container app serves its own files' });
    } else {
      if (!app.root) issues.push({ path: at('root'), message: 'a static app needs root: the host folder with its built files', got: 'missing' });
      if (!app.route) issues.push({ path: at('route'), message: 'a static app needs a route: Caddy serves it at <host>.<domain>', got: 'missing' });
      if (app.image !== undefined) issues.push({ path: at('image'), message: 'a static app has no image: Caddy serves its files' });
      if (app.port !== undefined) issues.push({ path: at('port'), message: 'a static app has no port: Caddy serves its files' });
      if (app.connects.length > 0) issues.push({ path: at('connects'), message: 'a static app runs in the browser; list what it calls under its API app' });
    }
    app.connects.forEach((target, index) => {
      const known = (enabledServices as readonly string[]).includes(target) || appNames.includes(target);
      if (!known) {
        issues.push({
          path: at('connects', index),
          message: `no enabled service or app is named "${target}"; apps: ${list(appNames)}; services: ${enabledServices.join(', ')}`,
          rule: 'connection-dangling',
        });
      } else if (target === name) {
        issues.push({ path: at('connects', index), message: 'an app cannot connect to itself' });
      } else if (config.apps[target]?.kind === 'static') {
        issues.push({ path: at('connects', index), message: `"${target}" is a static app; it has no port to connect to` });
      }
      for (const generated of ['HOST', 'PORT', 'URL'].map((suffix) => `${envPrefix(target)}_${suffix}`)) {
        if (generated in app.env || app.secrets.includes(generated)) {
          issues.push({
            path: generated in app.env ? at('env', generated) : at('secrets'),
            message: `${generated} is set by the connection to ${target}; remove it or choose another name`,
          });
        }
      }
    });
  }

  return issues;
}
