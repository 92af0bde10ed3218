import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../lib/config/errors.js';
import type { PlatformConfigInput } from '../lib/config/schema.js';
import { APPS_EXAMPLE } from '../lib/config/init.js';
import { topology } from '../lib/graph/topology.js';
import type { VolumeSpec } from '../lib/model/service.js';
import { buildPlatform, renderTargets } from '../lib/synth.js';
import { validate } from '../lib/validate/validate.js';
import { podSpec, renderK3sTree, type AnyObject } from './support/k3s.js';
import { connectionAllowed, type PodRef } from './support/network-policy.js';
import { configText, FIXTURES, inlineConfig, loadFixture, renderTree } from './support/render.js';
import { readYaml } from './support/yaml.js';

/*
 * apps.<name> as full service descriptors (test/fixtures/valid/apps-every-field.yaml): what each
 * new field becomes on both targets, and the mistakes refused with the key and value.
 */

const FIXTURE = () => loadFixture('valid', 'apps-every-field');
/** The fixture as data, to vary one field. */
const FIXTURE_INPUT = (): PlatformConfigInput => readYaml(readFileSync(join(FIXTURES, 'valid', 'apps-every-field.yaml'), 'utf8')) as PlatformConfigInput;
const platform = buildPlatform(FIXTURE());
const compose = renderTree(FIXTURE(), 'plain');
const k3s = await renderK3sTree(FIXTURE());

const pod = (namespace: string, name: string): PodRef => ({ namespace, labels: { 'app.kubernetes.io/name': name } });
const container = (kind: string, namespace: string, name: string): AnyObject => podSpec(k3s.get(kind, namespace, name)).containers[0];

describe('a vLLM server on the GPU node (gpus, gpuDevices, vramGb, volume, metrics, token auth)', () => {
  it('reserves its GPU on Compose and asks for nvidia.com/gpu on k3s, with the runtime class and GPU node', () => {
    const vllm = compose.service('rtx/apps', 'vllm');
    expect(vllm.deploy.resources.reservations?.devices).toEqual([{ driver: 'nvidia', count: 1, capabilities: ['gpu'] }]);
    const spec = podSpec(k3s.get('StatefulSet', 'gpu', 'vllm'));
    expect(spec.containers[0].resources.limits['nvidia.com/gpu']).toBeGreaterThanOrEqual(1);
    expect(spec.runtimeClassName).toBe('nvidia');
    expect(spec.nodeSelector).toEqual({ 'kubernetes.io/hostname': 'rtx', 'nvidia.com/gpu.present': 'true' });
    expect(platform.gpuDevices(platform.service('vllm')!, platform.nodes.get('rtx')!)).toEqual([0]);
  });

  it('on a node with two GPUs, is pinned with the built-ins: Compose device_ids, and the VRAM budget of that GPU counts it', async () => {
    const optimal = readYaml(readFileSync(join(FIXTURES, 'valid', 'optimal.yaml'), 'utf8')) as PlatformConfigInput;
    const config = { ...optimal, apps: { vllm: { image: 'vllm/vllm-openai:v0.6.4', port: 8000, zone: 'gpu', gpuDevices: [1], vramGb: 6 } } };
    const tree = renderTree(inlineConfig(config), 'plain');
    expect(tree.service('gpu-a/apps', 'vllm').deploy.resources.reservations?.devices).toEqual([{ driver: 'nvidia', device_ids: ['1'], capabilities: ['gpu'] }]);
    const v = await validate(() => inlineConfig(config));
    const gpu1 = v.findings.find((f) => f.rule === 'vram-budget' && f.path.join('.') === 'nodes.gpu-a.gpus.1');
    expect(gpu1?.message).toContain('+ vllm its model 6 GB');
  });

  it('mounts its model cache: a named volume on Compose, a 40 Gi claim on k3s, held as a cache (not backed up)', () => {
    expect(compose.service('rtx/apps', 'vllm').volumes).toContainEqual({ type: 'volume', source: 'vllm-models', target: '/models' });
    expect(compose.compose('rtx/apps').volumes).toHaveProperty('vllm-models');
    const set = k3s.get('StatefulSet', 'gpu', 'vllm');
    expect(set.spec.volumeClaimTemplates.map((t: AnyObject) => [t.metadata.name, t.spec.resources.requests.storage])).toEqual([['vllm-models', '40Gi']]);
    expect(container('StatefulSet', 'gpu', 'vllm').volumeMounts).toContainEqual({ name: 'vllm-models', mountPath: '/models' });
    const holds = (name: string) => platform.service(name)!.volumes.map((v: VolumeSpec) => ('name' in v ? [v.name, v.holds] : ['hostPath', undefined]));
    expect(holds('vllm')).toEqual([['vllm-models', 'cache']]);
    expect(holds('worker')).toEqual([['worker-state', 'state'], ['hostPath', undefined]]);
  });

  it('counts its declared VRAM in the budget and in the graph', async () => {
    const v = await validate(FIXTURE);
    const budget = v.findings.find((f) => f.rule === 'vram-budget');
    expect(budget?.message).toContain('+ vllm its model 6 GB');
    const box = topology(platform).zones.flatMap((z) => z.services).find((s) => s.name === 'vllm');
    expect(box?.label).toContain('model VRAM 6 GB');
  });

  it('is scraped by Prometheus on its metrics port, on both targets, and the graph draws the scrape', () => {
    const composeScrape = readYaml(configText(compose, 'homelab/monitoring', 'prometheus', '/etc/prometheus/prometheus.yml') as string);
    const job = (config: AnyObject, name: string) => config.scrape_configs.find((j: AnyObject) => j.job_name === name);
    expect(job(composeScrape, 'vllm').static_configs).toEqual([{ targets: ['192.168.1.11:8000'], labels: { node: 'rtx' } }]);
    expect(job(composeScrape, 'vectors').static_configs[0].targets).toEqual(['vectors:6333']);
    const k3sScrape = readYaml(k3s.get('ConfigMap', 'monitoring', 'prometheus-config').data['prometheus.yml']);
    expect(job(k3sScrape, 'vllm').static_configs[0].targets).toEqual(['vllm.gpu.svc.cluster.local:8000']);
    expect(connectionAllowed(k3s.all('NetworkPolicy'), pod('monitoring', 'prometheus'), pod('gpu', 'vllm'), 8000)).toBe(true);
    expect(topology(platform).edges).toContainEqual({ from: 'prometheus', to: 'vllm', label: '8000' });
  });

  it('declares token authentication on its port, so publishing it for callers on other nodes raises no unauthenticated-port finding', async () => {
    expect(platform.service('vllm')!.ports).toEqual([{ name: 'api', port: 8000, protocol: 'tcp', http: true, entry: false, authentication: 'token' }]);
    const v = await validate(FIXTURE);
    expect(v.findings.filter((f) => f.rule === 'unauthenticated-port' && f.message.startsWith('vllm '))).toEqual([]);
    const open = await validate(() => inlineConfig({ ...(FIXTURE_INPUT()), apps: { ...FIXTURE_INPUT().apps, vllm: { ...FIXTURE_INPUT().apps!.vllm!, auth: 'none' } } }));
    expect(open.findings.filter((f) => f.rule === 'unauthenticated-port' && f.message.startsWith('vllm ')).map((f) => f.message)).toContainEqual(
      expect.stringContaining('vllm answers anyone on 8000/tcp (api, no authentication) and is published on rtx at 192.168.1.11:8000'),
    );
  });

  it('waits for its model: the health grace period reaches Compose start_period and the k3s liveness delay', () => {
    expect(compose.service('rtx/apps', 'vllm').healthcheck).toMatchObject({
      test: ['CMD', 'python3', '-c', "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=5)"],
      start_period: '600s',
    });
    expect(container('StatefulSet', 'gpu', 'vllm').livenessProbe).toMatchObject({ httpGet: { path: '/health', port: 8000 }, initialDelaySeconds: 600 });
  });
});

describe('built-ins connect to apps (services.<name>.connects)', () => {
  it('LiteLLM gets VLLM_HOST/_PORT/_URL right for each target', () => {
    expect(compose.service('homelab/llm', 'litellm').environment).toMatchObject({
      VLLM_HOST: '192.168.1.11',
      VLLM_PORT: '8000',
      VLLM_URL: 'http://192.168.1.11:8000',
    });
    const env = Object.fromEntries(container('Deployment', 'edge', 'litellm').env.map((e: AnyObject) => [e.name, e.value]));
    expect(env).toMatchObject({ VLLM_HOST: 'vllm.gpu.svc.cluster.local', VLLM_PORT: '8000', VLLM_URL: 'http://vllm.gpu.svc.cluster.local:8000' });
  });

  it('LiteLLM can reach it: vLLM publishes 8000 on its node for the caller on the other node; the NetworkPolicies let LiteLLM through and nothing unasked', () => {
    expect(compose.service('rtx/apps', 'vllm').ports).toEqual([{ target: 8000, published: '8000', host_ip: '192.168.1.11', protocol: 'tcp' }]);
    // LiteLLM dials the other node's address, so it sits on a network with a way out (not --internal).
    const created = compose.files.get('homelab/networks.sh') as string;
    const routed = compose.service('homelab/llm', 'litellm').networks.filter((n) => new RegExp(`^ensure_network ${n} (?!.*--internal)`, 'm').test(created));
    expect(routed.length).toBeGreaterThan(0);
    const policies = k3s.all('NetworkPolicy');
    expect(connectionAllowed(policies, pod('edge', 'litellm'), pod('gpu', 'vllm'), 8000)).toBe(true);
    expect(connectionAllowed(policies, pod('edge', 'open-webui'), pod('gpu', 'vllm'), 8000)).toBe(false);
    expect(platform.connections.some((c) => c.from.name === 'litellm' && c.to.name === 'vllm' && !c.ordering)).toBe(true);
  });

  it('works from the services built after the apps too (the edge)', () => {
    const p = buildPlatform(inlineConfig({ apps: { vectors: { image: 'qdrant/qdrant:v1.12.4', port: 6333, zone: 'services' } }, services: { caddy: { connects: ['vectors'] } } }));
    expect(Object.keys(p.service('caddy')!.env)).toEqual(expect.arrayContaining(['VECTORS_HOST', 'VECTORS_PORT', 'VECTORS_URL']));
    expect(p.connections.some((c) => c.from.name === 'caddy' && c.to.name === 'vectors' && c.port === 6333)).toBe(true);
  });

  it('Open WebUI reaches a vector database on its node through the shared zone network, and the policies allow it', () => {
    const webui = compose.service('homelab/chat', 'open-webui');
    expect(webui.environment).toMatchObject({ VECTORS_HOST: 'vectors', VECTORS_PORT: '6333', VECTORS_URL: 'http://vectors:6333' });
    expect(webui.networks).toEqual(expect.arrayContaining(compose.service('homelab/apps', 'vectors').networks));
    expect(connectionAllowed(k3s.all('NetworkPolicy'), pod('edge', 'open-webui'), pod('services', 'vectors'), 6333)).toBe(true);
  });
});

describe('a worker with command, args, a state volume and a host folder, checked by a command', () => {
  it('replaces the entrypoint and arguments: Compose entrypoint/command, Kubernetes command/args', () => {
    const worker = compose.service('homelab/apps', 'worker');
    expect(worker.entrypoint).toEqual(['python3', '-m', 'worker']);
    expect(worker.command).toEqual(['--queue', 'jobs', '--concurrency', '2']);
    const c = container('StatefulSet', 'edge', 'worker');
    expect(c.command).toEqual(['python3', '-m', 'worker']);
    expect(c.args).toEqual(['--queue', 'jobs', '--concurrency', '2']);
  });

  it('its health check is the command, on both targets', () => {
    expect((compose.service('homelab/apps', 'worker').healthcheck as AnyObject).test).toEqual(['CMD', 'python3', '-m', 'worker.healthcheck']);
    expect(container('StatefulSet', 'edge', 'worker').livenessProbe.exec).toEqual({ command: ['python3', '-m', 'worker.healthcheck'] });
  });

  it('mounts the state volume and the host folder read-only; listens on nothing, so k3s gets no Service', () => {
    expect(compose.service('homelab/apps', 'worker').volumes).toEqual([
      { type: 'volume', source: 'worker-state', target: '/var/lib/worker' },
      { type: 'bind', source: '/srv/worker/inbox', target: '/inbox', read_only: true },
    ]);
    const spec = podSpec(k3s.get('StatefulSet', 'edge', 'worker'));
    expect(spec.volumes).toEqual([{ name: 'host-1', hostPath: { path: '/srv/worker/inbox' } }]);
    expect(spec.containers[0].volumeMounts).toEqual([
      { name: 'worker-state', mountPath: '/var/lib/worker' },
      { name: 'host-1', mountPath: '/inbox', readOnly: true },
    ]);
    expect(k3s.find('Service', 'edge', 'worker')).toBeUndefined();
  });

  it('in bind mode the state volume is a folder under the storage root, made by storage.sh', () => {
    const input = FIXTURE_INPUT();
    const tree = renderTree(inlineConfig({ ...input, storage: { mode: 'bind', root: '/cold-storage' } }), 'plain');
    expect(tree.service('homelab/apps', 'worker').volumes?.[0]).toMatchObject({ type: 'bind', source: '/cold-storage/apps/worker-state', target: '/var/lib/worker' });
    expect(tree.files.get('homelab/storage.sh')).toContain('prepare /cold-storage/apps/worker-state 0');
  });
});

describe('a vector database with two ports and a TCP health check', () => {
  it('declares both ports; the health check is the TCP kind on both targets', () => {
    expect(k3s.get('Service', 'services', 'vectors').spec.ports.map((p: AnyObject) => [p.name, p.port])).toEqual([['http', 6333], ['grpc', 6334]]);
    expect(container('StatefulSet', 'services', 'vectors').readinessProbe.tcpSocket).toEqual({ port: 6334 });
    expect((compose.service('homelab/apps', 'vectors').healthcheck as AnyObject).test).toEqual(['CMD', 'bash', '-c', ': > /dev/tcp/127.0.0.1/6334']);
    // Only the http port offers a URL.
    expect(platform.service('vectors')!.ports.map((p) => [p.name, p.http])).toEqual([['http', true], ['grpc', false]]);
  });
});

describe('routes per port and basic auth at the edge', () => {
  it('basic auth on one port puts only the routes to that port behind the password', () => {
    const p = buildPlatform(inlineConfig({ apps: { a: { image: 'ghcr.io/me/app:1.0.0', ports: [{ name: 'web', port: 80 }, { name: 'admin', port: 81, auth: 'basic' }], routes: [{ host: 'a' }, { host: 'a-admin', port: 'admin' }] } } }));
    expect(p.routes.filter((r) => r.service?.name === 'a').map((r) => [r.host, r.port, r.auth])).toEqual([['a', 80, false], ['a-admin', 81, true]]);
    const s = buildPlatform(inlineConfig({ apps: { s: { kind: 'static', root: '/srv/s', route: { host: 's' }, auth: 'basic' } } }));
    expect(s.routes.find((r) => r.host === 's')?.auth).toBe(true);
  });

  it('routes each host to its port, both behind Caddy basic auth because the app says auth: basic', () => {
    const routes = platform.routes.filter((r) => r.service?.name === 'tools').map((r) => [r.host, r.port, r.auth]);
    expect(routes).toEqual([['tools', 8080, true], ['tools-admin', 8081, true]]);
    const caddyfile = configText(compose, 'homelab/edge', 'caddy', '/etc/caddy/Caddyfile') as string;
    const site = (host: string) => caddyfile.slice(caddyfile.indexOf(`${host}.example.com {`)).split('\n}')[0] as string;
    expect(site('tools')).toContain('basicauth');
    expect(site('tools')).toContain('reverse_proxy tools:8080');
    expect(site('tools-admin')).toContain('basicauth');
    expect(site('tools-admin')).toContain('reverse_proxy tools:8081');
    // The ports themselves answer anyone who reaches them: basic auth lives at the edge.
    expect(platform.service('tools')!.ports.map((p) => p.authentication)).toEqual(['none', 'none']);
  });
});


describe('examples', () => {
  it("the apps example `platform init` writes as a comment is a config that renders", async () => {
    const example = readYaml(APPS_EXAMPLE.split('\n').slice(2).join('\n')) as PlatformConfigInput;
    expect(Object.keys(example.apps ?? {})).toEqual(['api', 'app', 'video-worker', 'vllm']);
    await expect(renderTargets(inlineConfig(example), 'all', 'coolify')).resolves.toBeDefined();
  });

  it("the README's apps example is a config that renders", async () => {
    const readme = readFileSync(join(FIXTURES, '..', '..', 'README.md'), 'utf8');
    const section = readme.split('### Your own apps (`apps.<name>`)')[1] as string;
    const example = readYaml(section.split('```yaml\n')[1]?.split('```')[0] as string) as PlatformConfigInput;
    expect(Object.keys(example.apps ?? {})).toEqual(['api', 'app', 'vllm', 'worker', 'vectors', 'tools']);
    await expect(renderTargets(inlineConfig(example), 'all', 'coolify')).resolves.toBeDefined();
  });
});

describe('mistakes are refused with the key and the value', () => {
  const message = async (data: PlatformConfigInput): Promise<string> => {
    try {
      await renderTargets(inlineConfig(data), 'all', 'coolify');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as ConfigError).message;
    }
    throw new Error('accepted');
  };
  const app = { image: 'ghcr.io/me/app:1.0.0' };

  it.each<[string, PlatformConfigInput, string]>([
    ['health with two kinds', { apps: { a: { ...app, port: 80, health: { http: '/', tcp: 80 } } } }, 'inline.yaml: apps.a.health: give exactly one of http, tcp or command (got http and tcp)'],
    ['health and healthPath', { apps: { a: { ...app, port: 80, healthPath: '/x', health: { tcp: 80 } } } }, 'inline.yaml: apps.a.healthPath: healthPath is the shorthand for health: {http: <path>}; use one of them'],
    ['an http check on a tcp port', { apps: { a: { ...app, ports: [{ name: 'db', port: 5432, protocol: 'tcp' }], health: { http: '/', port: 5432 } } } }, 'inline.yaml: apps.a.health.port: the health check needs an http port, but db 5432 is tcp'],
    ['the default http check on a tcp first port', { apps: { a: { ...app, ports: [{ name: 'db', port: 5432, protocol: 'tcp' }] } } }, 'inline.yaml: apps.a.health: missing; the first port (db 5432) is tcp, so the default HTTP check does not apply; give health: {tcp: <port>} or {command: [...]}'],
    ['metrics on a port it lacks', { apps: { a: { ...app, port: 80, metrics: { port: 9090 } } } }, 'inline.yaml: apps.a.metrics.port: the metrics port 9090 is not one of the app\'s TCP ports (http 80/http)'],
    ['a route to a tcp port', { apps: { a: { ...app, ports: [{ name: 'web', port: 80 }, { name: 'db', port: 5432, protocol: 'tcp' }], routes: [{ host: 'a', port: 'db' }] } } }, 'inline.yaml: apps.a.routes[0].port: Caddy proxies HTTP, but db 5432 is tcp; route an http port'],
    ['a route to a port it lacks', { apps: { a: { ...app, port: 80, routes: [{ host: 'a', port: 'admin' }] } } }, 'inline.yaml: apps.a.routes[0].port: admin is not one of the app\'s ports (http 80/http)'],
    ['route and routes', { apps: { a: { ...app, port: 80, route: { host: 'a' }, routes: [{ host: 'b' }] } } }, 'inline.yaml: apps.a.routes: route is the shorthand for routes with one entry; use one of them'],
    ['basic auth without a route', { apps: { a: { ...app, port: 80, auth: 'basic' } } }, 'inline.yaml: apps.a.auth: basic means Caddy asks for a password on the app\'s routes, but it has none; add a route or say what the app does itself (none, login, token)'],
    ['basic auth turned off on a route', { apps: { a: { ...app, port: 80, auth: 'basic', route: { host: 'a', auth: false } } } }, 'inline.yaml: apps.a.route.auth: http 80 authenticates with basic (Caddy asks for the password), so its routes cannot turn it off; set the auth of the app or port to what it does itself'],
    ['a basic-auth port without a route', { apps: { a: { ...app, ports: [{ name: 'web', port: 80 }, { name: 'admin', port: 81, auth: 'basic' }], route: { host: 'a' } } } }, 'inline.yaml: apps.a.ports[1].auth: basic means Caddy asks for a password on the routes to admin, but none goes there; route it or say what the port does itself (none, login, token)'],
    ['a static app that claims a login', { apps: { s: { kind: 'static', root: '/srv/s', route: { host: 's' }, auth: 'login' } } }, 'inline.yaml: apps.s.auth: a static app is files Caddy serves and cannot check a login itself; use basic (Caddy asks for a password) or none'],
    ['vramGb without GPUs', { apps: { a: { ...app, port: 80, vramGb: 8 } } }, 'inline.yaml: apps.a.vramGb: vramGb is the VRAM the app keeps on its GPUs; give gpus (or gpuDevices) too'],
    ['a GPU index the node lacks', { apps: { a: { ...app, port: 80, gpuDevices: [1] } } }, 'inline.yaml: apps.a.gpuDevices: GPU 1 does not exist on node "rtx" (GPUs 0-0)'],
    ['a volume with name and hostPath', { apps: { a: { ...app, port: 80, volumes: [{ name: 'x', hostPath: '/srv/x', mountPath: '/x' }] } } }, 'inline.yaml: apps.a.volumes[0]: give exactly one of name (a volume the platform keeps) or hostPath (a folder of the node)'],
    ['two volumes on one path', { apps: { a: { ...app, port: 80, volumes: [{ name: 'x', mountPath: '/x' }, { name: 'y', mountPath: '/x' }] } } }, 'inline.yaml: apps.a.volumes[1].mountPath: /x is already where volumes[0] is mounted'],
    ['a volume named like a built-in one', { apps: { open: { ...app, port: 80, volumes: [{ name: 'webui-data', mountPath: '/x' }] } } }, 'inline.yaml: apps.open.volumes[0].name: it would be the volume open-webui-data, which open-webui already has; choose another name'],
    ['ports on a static app', { apps: { s: { kind: 'static', root: '/srv/s', route: { host: 's' }, ports: [{ name: 'web', port: 80 }] } } }, 'inline.yaml: apps.s.ports: ports is for container apps; a static app is files Caddy serves'],
    ['a connection to an app that listens on nothing', { apps: { w: { ...app, health: { command: ['true'] } } }, services: { litellm: { connects: ['w'] } } }, 'inline.yaml: services.litellm.connects[0]: app "w" listens on no port (it has no ports); nothing can connect to it'],
    ['a connection from a turned-off service', { apps: { a: { ...app, port: 80 } }, services: { 'open-webui': { enabled: false, connects: ['a'] } } }, 'inline.yaml: services.open-webui.connects: open-webui is turned off (services.open-webui.enabled: false), so it connects to nothing; remove connects or turn it on'],
    ['a connection from a built-in to a turned-off one', { services: { searxng: { enabled: false }, 'open-webui': { enabled: false }, litellm: { connects: ['searxng'] } } }, 'inline.yaml: services.litellm.connects[0]: "searxng" is turned off (services.searxng.enabled: false); turn it on or remove the connection'],
    ['a connection whose variables the built-in already sets', { litellm: { cache: true }, apps: { redis: { ...app, port: 6379 } }, services: { litellm: { connects: ['redis'] } } }, "inline.yaml: services.litellm.connects[0]: litellm already sets REDIS_HOST, REDIS_PORT itself; it cannot receive redis's address under that name"],
  ])('%s', async (_name, data, expected) => {
    expect(await message(data)).toBe(expected);
  });

  it('an app whose declared VRAM exceeds its GPU cannot load: vram-model-too-large', async () => {
    const v = await validate(() => inlineConfig({ apps: { a: { ...app, port: 80, zone: 'gpu', gpus: 1, vramGb: 30 } } }));
    expect(v.findings.filter((f) => f.rule === 'vram-model-too-large').map((f) => [f.path.join('.'), f.message, f.fix])).toEqual([
      [
        'apps.a.node',
        'a needs at least 30 GB for its model, but GPU 0 of rtx has 24 GB: it cannot load',
        'place a on a node with a larger GPU (apps.a.node), or give it a smaller model',
      ],
    ]);
  });

  it('an app with GPUs and no node goes to the GPU node', () => {
    const p = buildPlatform(inlineConfig({ apps: { a: { ...app, port: 80, zone: 'gpu', gpus: 1 } } }));
    expect(p.service('a')!.nodes.map((n) => n.name)).toEqual(['rtx']);
  });
});
