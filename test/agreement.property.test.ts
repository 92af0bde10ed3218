import { describe, expect, it } from 'vitest';
import type { LoadedConfig } from '../lib/config/load.js';
import { PROFILE_NAMES, PROFILES } from '../lib/config/profiles.js';
import type { PlatformConfigInput } from '../lib/config/schema.js';
import { NAME_LABEL } from '../lib/k3s/names.js';
import type { Node } from '../lib/model/node.js';
import type { Platform } from '../lib/model/platform.js';
import type { Service } from '../lib/model/service.js';
import { buildPlatform } from '../lib/synth.js';
import { validate } from '../lib/validate/validate.js';
import { podSpec, renderK3sTree, type AnyObject } from './support/k3s.js';
import { connectionAllowed, type PodRef } from './support/network-policy.js';
import { deepFreeze, fixtureNames, inlineConfig, loadFixture, renderTree, type RenderedTree } from './support/render.js';
import { mulberry32 } from './support/prng.js';

/*
 * A property over generated valid configs: what the model and `validate` say about GPUs and
 * reachability is what both renderers emit. Configs come from a seeded generator (the same ones
 * on every run, a bounded number so the file takes seconds): GPU nodes with one to three GPUs,
 * GPU services moved between them, pinned to devices or given several GPUs, catalog and optional
 * services turned on and off.
 */

const GPU_SERVICES = ['ollama', 'comfyui', 'mochi', 'cogvideox'] as const;

function generate(seed: number): PlatformConfigInput {
  const random = mulberry32(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const gpuNodeCount = 1 + Math.floor(random() * 2);
  const nodes: Record<string, AnyObject> = { homelab: { role: 'server', address: '192.168.1.10', cpus: 64, memoryGb: 512 } };
  const gpuNodes: { name: string; gpus: number }[] = [];
  for (let i = 0; i < gpuNodeCount; i++) {
    const gpus = 1 + Math.floor(random() * 3);
    const name = ['gpu-a', 'gpu-b'][i] as string;
    gpuNodes.push({ name, gpus });
    nodes[name] = { role: 'gpu', address: `192.168.1.${20 + i}`, cpus: 64, memoryGb: 512, gpus: Array.from({ length: gpus }, () => ({ model: 'RTX 4090', vramGb: 24 })) };
  }
  const services: Record<string, AnyObject> = {};
  for (const name of GPU_SERVICES) {
    const node = pick(gpuNodes);
    const settings: AnyObject = { node: node.name };
    const shape = random();
    if (shape < 0.35) settings.gpuDevices = [Math.floor(random() * node.gpus)];
    else if (shape < 0.5 && node.gpus > 1) settings.gpus = 2;
    if (name === 'mochi' && settings.gpus === undefined && settings.gpuDevices === undefined) settings.gpus = 1;
    if (name !== 'ollama' && random() < 0.15) settings.enabled = false;
    services[name] = settings;
  }
  if (random() < 0.5) services.qdrant = { enabled: true };
  if (random() < 0.3) services.searxng = { enabled: false };
  // The Postgres-backed catalog services (LiteLLM then traces to Langfuse).
  if (random() < 0.4) services.n8n = { enabled: true };
  if (random() < 0.4) services.langfuse = { enabled: true };
  return {
    exposure: pick(['public', 'lan'] as const),
    nodes,
    services,
    litellm: { spendLogs: random() < 0.5, cache: random() < 0.5 },
  } as PlatformConfigInput;
}

/**
 * The instances of `c.to` that a caller on `fromNode` dials: a per-node caller of a per-node
 * service its own node's; anyone else every instance (Prometheus scrapes each exporter).
 */
function calleeNodes(c: Service['connections'][number], fromNode: Node): readonly Node[] {
  if (c.from.perNode && c.to.perNode) return c.to.nodes.includes(fromNode) ? [fromNode] : [];
  return c.to.nodes;
}

/** Networks networks.sh creates `--internal` on a node: Docker gives their containers no route off the network. */
function internalNetworks(tree: RenderedTree, node: string): Set<string> {
  const script = tree.files.get(`${node}/networks.sh`) ?? '';
  return new Set(script.split('\n').filter((l) => l.startsWith('ensure_network ') && l.endsWith(' --internal')).map((l) => l.split(' ')[1] as string));
}

/**
 * Compose, read back from the rendered files against the model's connections alone: each container
 * joins its zone's network, the zone network of each service it dials beside it, and the uplink
 * only when it needs a way out; it publishes exactly its entry ports and the ports a caller on
 * another node dials; and whatever it dials outside Docker's networks (another node, a machine
 * not deployed to, a host-network service at its node's address) it dials from a network with a
 * route out (Docker's `--internal` networks have none: docs.docker.com, `docker network create
 * --internal`, "Restrict external access to the network").
 */
function checkComposeNetworks(platform: Platform, tree: RenderedTree): void {
  // Its stack's file, or (Coolify flavour) the file its profile is split into.
  const onNode = (s: Service, node: Node) => {
    const dir = tree.composeDirs().find((d) => (d === `${node.name}/${s.stackName}` || d.startsWith(`${node.name}/${s.stackName}-`)) && tree.compose(d).services[s.name]);
    return tree.service(dir ?? `${node.name}/${s.stackName}`, s.name);
  };
  for (const node of platform.deployedNodes) {
    const internal = internalNetworks(tree, node.name);
    for (const service of platform.services.filter((s) => s.nodes.includes(node))) {
      const rendered = onNode(service, node);
      const label = `${service.name} on ${node.name}`;
      if (service.security.hostNetwork) {
        expect(rendered.networks, label).toBeUndefined();
        continue;
      }
      const calls = service.connections.filter((c) => c.fromNodes.includes(node));
      const beside = calls.filter((c) => !c.to.security.hostNetwork && calleeNodes(c, node).includes(node));
      const leaves = calls.some((c) => c.to.security.hostNetwork || calleeNodes(c, node).some((n) => n !== node));
      // Published: entry ports, and each port a caller on another node dials.
      const published = new Set(service.ports.filter((p) => p.entry).map((p) => `${p.port}/${p.protocol}`));
      for (const c of platform.consumersOf(service)) {
        if (c.fromNodes.some((from) => from !== node && calleeNodes(c, from).includes(node))) published.add(`${c.port}/${c.protocol}`);
      }
      expect((rendered.ports ?? []).map((p) => `${p.target}/${p.protocol}`).sort(), `${label}: published`).toEqual([...published].sort());
      for (const p of rendered.ports ?? []) expect(p.host_ip, `${label}: published on the bind address`).toBe(node.bindAddress);
      // Joined: exactly its zone, the zones it dials beside it, and the uplink when it needs a way out.
      const zones = new Set([service.zone.networkName, ...beside.map((c) => c.to.zone.networkName)]);
      const needsUplink =
        (service.zone.isolated && (service.egress.length > 0 || leaves)) || (published.size > 0 && (service.zone.isolated || service.zone.driver !== 'bridge'));
      expect([...rendered.networks].sort(), `${label}: networks`).toEqual([...zones, ...(needsUplink ? ['uplink'] : [])].sort());
      // A way out wherever it dials off its node's Docker networks.
      if (leaves) expect(rendered.networks.some((n) => !internal.has(n)), `${label} dials outside Docker's networks from ${rendered.networks.join(', ')}`).toBe(true);
      // Beside it: the dialled container is on a network they share.
      for (const c of beside) {
        const theirs = onNode(c.to, node).networks ?? [];
        expect(rendered.networks.filter((n) => theirs.includes(n)).length, `${label} -> ${c.to.name}`).toBeGreaterThan(0);
      }
    }
  }
}

const podRef = (service: Service): PodRef => ({ namespace: service.zone.namespace, labels: { [NAME_LABEL]: service.name }, ip: '10.42.0.10' });
const SEEDS = [1, 2, 3, 4, 5, 6];

describe.each(SEEDS)('generated config (seed %i)', (seed) => {
  const loaded = inlineConfig(generate(seed));
  // What `validate` says of this config, asked once for both tests (it renders the k3s tree); frozen, so neither can change it for the other.
  let validation: ReturnType<typeof validate> | undefined;
  const validated = () => (validation ??= validate(() => loaded).then(deepFreeze));

  it('GPU accounting: validate, Compose device_ids and k3s limits and time-slicing are one assignment', async () => {
    const compose = renderTree(loaded);
    const k3s = await renderK3sTree(loaded);
    const platform = k3s.platform;
    const assignment = platform.gpuAssignment;
    // Who Compose puts on each GPU, read back from the rendered files.
    const rendered = new Map<string, string[]>();
    for (const dir of compose.composeDirs()) {
      const node = dir.split('/')[0] as string;
      for (const [name, service] of Object.entries(compose.compose(dir).services)) {
        // Telemetry exporters read every GPU without a share of it (not part of the assignment).
        if (platform.service(name)?.gpuTelemetry) continue;
        for (const device of service.deploy?.resources?.reservations?.devices ?? []) {
          for (const id of (device.device_ids as string[] | undefined) ?? ['0']) {
            const key = `${node}/${id}`;
            rendered.set(key, [...(rendered.get(key) ?? []), name]);
          }
        }
      }
    }
    for (const sharing of assignment.nodes) {
      for (const device of sharing.devices) {
        expect([...(rendered.get(`${sharing.node.name}/${device.index}`) ?? [])].sort(), `${sharing.node.name} GPU ${device.index}`).toEqual(device.services.map((s) => s.name).sort());
      }
    }
    // k3s: one slot per pod when the node is time-sliced, its GPUs otherwise; replicas = the busiest GPU.
    const plugin = k3s.get('Application', 'argocd', 'nvidia-device-plugin').spec.source.helm.valuesObject.config;
    for (const sharing of assignment.nodes) {
      for (const service of sharing.pods) {
        const workload = k3s.all('StatefulSet').concat(k3s.all('Deployment')).find((w: AnyObject) => w.metadata.name === service.name);
        expect(podSpec(workload).containers[0].resources.limits['nvidia.com/gpu'], service.name).toBe(assignment.k3sLimit(service, sharing.node));
      }
      if (sharing.replicas > 1) expect(plugin.map[`time-slicing-${sharing.replicas}`]).toContain(`replicas: ${sharing.replicas}`);
    }
    // validate: a finding per node exactly where a rendered GPU is shared, naming who shares it.
    const result = await validated();
    for (const sharing of assignment.nodes) {
      const finding = result.findings.find((f) => f.rule === 'gpu-oversubscribed' && f.path.join('.') === `nodes.${sharing.node.name}.gpus`);
      const shared = [...rendered.entries()].filter(([key, names]) => key.startsWith(`${sharing.node.name}/`) && names.length > 1);
      expect(finding !== undefined, sharing.node.name).toBe(shared.length > 0);
      for (const [key, names] of shared) {
        const index = key.split('/')[1];
        const inOrder = sharing.pods.filter((s) => names.includes(s.name)).map((s) => s.name);
        expect(finding?.message).toContain(`GPU ${index} of ${sharing.node.name} runs ${names.length} GPU services (${inOrder.join(', ')})`);
      }
    }
  });

  it('reachability: every model connection is open in the rendered Compose networks and NetworkPolicies; pods with no connection are not', async () => {
    const compose = renderTree(loaded);
    const k3s = await renderK3sTree(loaded);
    const platform = k3s.platform;
    const policies = k3s.all('NetworkPolicy');
    const deployed = (s: Service) => s.nodes.every((n) => n.deployed);
    const composeService = (s: Service, nodeName: string) => compose.service(`${nodeName}/${s.stackName}`, s.name);
    for (const c of platform.connections.filter((x) => deployed(x.from) && deployed(x.to))) {
      const label = `${c.from.name} -> ${c.to.name}:${c.port}`;
      if (c.to.security.hostNetwork) {
        for (const node of c.to.nodes) expect(connectionAllowed(policies, podRef(c.from), { ...podRef(c.to), ip: node.address }, c.port, c.protocol.toUpperCase(), false), label).toBe(true);
        continue;
      }
      expect(connectionAllowed(policies, podRef(c.from), podRef(c.to), c.port, c.protocol.toUpperCase()), label).toBe(true);
      for (const fromNode of c.fromNodes) {
        // The instance beside the caller, or (another node) every instance it dials.
        for (const toNode of c.to.nodes.includes(fromNode) ? [fromNode] : c.to.nodes) {
          if (toNode === fromNode) {
            const shared = (composeService(c.from, fromNode.name).networks ?? []).filter((n) => (composeService(c.to, toNode.name).networks ?? []).includes(n));
            expect(shared.length, `${label} on ${fromNode.name}`).toBeGreaterThan(0);
          } else {
            // Another node: the port is published on the callee's node address.
            expect(composeService(c.to, toNode.name).ports ?? [], `${label} from ${fromNode.name}`).toContainEqual(expect.objectContaining({ target: c.port, host_ip: toNode.bindAddress }));
          }
        }
      }
    }
    checkComposeNetworks(platform, compose);
    // validate's exposure findings name exactly the rendered published ports that answer anyone.
    const findings = (await validated()).findings.filter((f) => f.rule === 'unauthenticated-port');
    const open: string[] = [];
    for (const dir of compose.composeDirs()) {
      const node = platform.nodes.get(dir.split('/')[0] as string)!;
      for (const [name, rendered] of Object.entries(compose.compose(dir).services)) {
        const service = platform.service(name)!;
        // A host-network container listens on the node's address itself (NODE_ADDRESS), published or not.
        const listening = rendered.network_mode === 'host' ? service.ports.map((x) => ({ target: x.port, protocol: x.protocol })) : (rendered.ports ?? []);
        for (const p of listening) {
          const spec = service.ports.find((x) => x.port === p.target && x.protocol === p.protocol)!;
          if (!spec.entry && spec.authentication === 'none') open.push(`${name} answers anyone on ${p.target}/${p.protocol} (${spec.name}, no authentication) and is published on %${node.bindAddress}:${p.target}`);
        }
      }
    }
    const reported = findings.map((f) => f.message.replace(/published on .* at /, 'published on %').replace(/ for .*$/, ''));
    expect([...new Set(reported)].sort()).toEqual([...new Set(open)].sort());
    // Nothing else: a pod reaches another pod's port only along a declared connection (entry ports aside).
    const pods = platform.services.filter((s) => deployed(s) && !s.security.hostNetwork && !s.oneShot);
    for (const from of pods) {
      for (const to of pods) {
        if (from === to) continue;
        for (const port of to.ports.filter((p) => !p.entry)) {
          const declared = platform.connections.some((c) => c.from === from && c.to === to && c.port === port.port);
          if (declared) continue;
          expect(connectionAllowed(policies, podRef(from), podRef(to), port.port, (port.protocol ?? 'tcp').toUpperCase()), `${from.name} -> ${to.name}:${port.port}`).toBe(false);
        }
      }
    }
  });
});

/** The same Compose property on every profile and every fixture: single-node homelabs included. */
const CONFIGS: { name: string; load: () => LoadedConfig }[] = [
  ...PROFILE_NAMES.map((name) => ({ name: `profile ${name}`, load: () => inlineConfig(PROFILES[name].config as PlatformConfigInput) })),
  ...fixtureNames('valid').map((name) => ({ name: `fixture ${name}`, load: () => loadFixture('valid', name) })),
];

describe.each(CONFIGS)('$name', ({ load }) => {
  it('Compose joins the networks, publishes the ports and has the routes out the connections call for', () => {
    const loaded = load();
    checkComposeNetworks(buildPlatform(loaded), renderTree(loaded));
  });
});
