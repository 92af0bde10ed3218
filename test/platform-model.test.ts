import { describe, expect, it } from 'vitest';
import { referenceConfig } from '../lib/config/load.js';
import { Service } from '../lib/model/service.js';
import { buildPlatform } from '../lib/synth.js';
import { loadFixture } from './support/render.js';

// Platform keeps its derived collections (services, the index by name, connections, consumers)
// until the tree changes: these pin that a read never sees a stale tree.
describe('Platform derived collections', () => {
  it('follow a stack, a service and a connection added after they were read', () => {
    const platform = buildPlatform(referenceConfig());
    const valkey = platform.service('valkey')!;
    const servicesBefore = platform.services.length;
    const stacksBefore = platform.stacks.length;
    const consumersBefore = platform.consumersOf(valkey).length;
    const connectionsBefore = platform.connections.length;
    expect(platform.service('probe')).toBeUndefined();

    const stack = platform.stack('probe-stack', 'a stack added late');
    const probe = new Service(stack, 'probe', {
      image: 'example/probe:1',
      zone: valkey.zone,
      nodes: valkey.nodes,
      configPath: ['apps', 'probe'],
      description: 'a service added after the collections were read',
      ports: [{ name: 'http', port: 8080 }],
      healthCheck: { exec: ['true'], intervalSeconds: 10, timeoutSeconds: 5 },
    });
    expect(platform.stacks).toHaveLength(stacksBefore + 1);
    expect(platform.services).toHaveLength(servicesBefore + 1);
    expect(platform.service('probe')).toBe(probe);
    expect(platform.consumersOf(valkey)).toHaveLength(consumersBefore);

    const connection = probe.connect(valkey);
    expect(platform.connections).toHaveLength(connectionsBefore + 1);
    expect(platform.consumersOf(valkey)).toHaveLength(consumersBefore + 1);
    expect(platform.consumersOf(valkey)).toContain(connection);
  });

  it('hand out copies, so a caller sorting its list changes nothing for the next', () => {
    const platform = buildPlatform(referenceConfig());
    const names = platform.services.map((s) => s.name);
    platform.services.reverse();
    platform.services.splice(0);
    expect(platform.services.map((s) => s.name)).toEqual(names);
  });

  it('answer a name as a search in declaration order does, and consumers as a filter of connections does', () => {
    const platform = buildPlatform(referenceConfig());
    for (const service of platform.services) {
      expect(platform.service(service.name)).toBe(platform.services.find((s) => s.name === service.name));
      expect(platform.consumersOf(service)).toEqual(platform.connections.filter((c) => c.to === service));
    }
  });
});

describe('volumes say what they hold', () => {
  it('every named volume of the reference (and qdrant) is classified; state is what a backup keeps', () => {
    const platform = buildPlatform(loadFixture('valid', 'qdrant'));
    const holds: Record<string, string> = {};
    for (const service of platform.services) {
      for (const volume of service.volumes) if ('name' in volume) holds[volume.name] = volume.holds;
    }
    expect(Object.entries(holds).filter(([, h]) => h === 'state').map(([name]) => name).sort()).toEqual([
      'alertmanager-data', 'caddy-data', 'comfyui-input', 'comfyui-output', 'comfyui-user', 'ddclient-config', 'grafana-data', 'loki-data',
      'minio-data', 'mochi-output', 'cogvideox-output', 'open-webui-data', 'postgres-data', 'prometheus-data', 'qdrant-storage',
      'technitium-config', 'uptime-kuma-data', 'valkey-data',
    ].sort());
    expect(Object.entries(holds).filter(([, h]) => h === 'models').map(([name]) => name).sort()).toEqual(['cogvideox-models', 'comfyui-models', 'mochi-models', 'ollama-models']);
    expect(Object.entries(holds).filter(([, h]) => h === 'cache').map(([name]) => name).sort()).toEqual(['alloy-data', 'caddy-config', 'ntfy-cache']);
  });
});

// One start order in the model (Platform.startOrder): Compose depends_on, the order of Compose
// files and the k3s sync waves are all read from it, so a connection added late moves all three.
describe('Platform start order', () => {
  it('is re-derived when a connection is added, and every target reads it', async () => {
    const { composeUnits, sameFileDependencies } = await import('../lib/compose/units.js');
    const { stackWaves } = await import('../lib/k3s/waves.js');
    const platform = buildPlatform(referenceConfig());
    const searxng = platform.service('searxng')!;
    const valkey = platform.service('valkey')!;
    const ntfy = platform.service('ntfy')!;
    const before = platform.startOrder;
    expect(stackWaves(platform)).toBe(before.waves);
    expect(before.waitsFor(searxng)).not.toContain(ntfy);
    // search waits for monitoring once searxng waits for ntfy.
    searxng.connect(ntfy, { ordering: true });
    const after = platform.startOrder;
    expect(after).not.toBe(before);
    expect(after.waitsFor(searxng)).toEqual(expect.arrayContaining([valkey, ntfy]));
    const stacks = platform.stackOrder().map((s) => s.name);
    expect(stacks.indexOf('search')).toBeGreaterThan(stacks.indexOf(ntfy.stackName));
    const units = composeUnits(platform);
    const search = units.find((u) => u.stack.name === 'search')!;
    const monitoring = units.find((u) => u.services.includes(ntfy))!;
    expect(search.after).toContain(monitoring.dir);
    expect(units.indexOf(search)).toBeGreaterThan(units.indexOf(monitoring));
    expect(stackWaves(platform).get(search.stack)).toBeGreaterThanOrEqual(stackWaves(platform).get(monitoring.stack)!);
    // Within one file, what a service waits for is its depends_on; across files it is the file order.
    expect(sameFileDependencies(platform, searxng, search)).toEqual([]);
    const ollamaInit = platform.service('ollama-init');
    if (ollamaInit) {
      const unit = units.find((u) => u.services.includes(ollamaInit))!;
      expect(sameFileDependencies(platform, ollamaInit, unit)).toEqual(platform.startOrder.waitsFor(ollamaInit).filter((s) => unit.services.includes(s)));
    }
  });
});

// Effective defaults are applied when the construct is built: the renderers carry none of their own.
describe('Service effective specs', () => {
  it('health timings, volume sizes, config files and ports carry their defaults, and both targets render those', async () => {
    const { renderComposeService } = await import('../lib/compose/service.js');
    const { probeFor } = await import('../charts/workload-probes.js');
    const { claimSpec } = await import('../charts/workload-storage.js');
    const platform = buildPlatform(referenceConfig());
    const valkey = platform.service('valkey')!;
    const stack = platform.stack('defaults-stack', 'a service that names no defaults');
    const plain = new Service(stack, 'plain-defaults', {
      image: 'example/plain:1',
      zone: valkey.zone,
      nodes: valkey.nodes,
      configPath: ['apps', 'plain-defaults'],
      description: 'every optional field left out',
      ports: [{ port: 8080, name: 'http' }],
      volumes: [{ name: 'plain-data', mountPath: '/data', holds: 'state' }],
      configFiles: [{ name: 'app.conf', mountPath: '/etc/app.conf', content: () => 'x' }],
      healthCheck: { http: { port: 8080, path: '/health' } },
    });
    expect(plain.healthCheck).toMatchObject({ via: 'wget', intervalSeconds: 30, timeoutSeconds: 10, retries: 3, startPeriodSeconds: 30, loopbackOnly: false });
    expect(plain.volumes[0]).toMatchObject({ sizeGb: 10 });
    expect(plain.configFiles[0]).toMatchObject({ readOnly: true, executable: false });
    expect(plain.ports[0]).toMatchObject({ protocol: 'tcp', entry: false, http: true, authentication: 'none' });
    const compose = renderComposeService(plain, { platform, node: valkey.homeNode, flavor: 'plain', secretStyle: () => '', networks: [], published: [], dependsOn: [] });
    expect(compose.healthcheck).toMatchObject({ interval: '30s', timeout: '10s', retries: 3, start_period: '30s' });
    expect(probeFor(plain.healthCheck!)).toMatchObject({ periodSeconds: 30, timeoutSeconds: 10, failureThreshold: 3 });
    const volume = plain.volumes[0]!;
    if (!('hostPath' in volume)) expect(claimSpec(volume, undefined).resources?.requests?.storage?.value).toBe('10Gi');
  });
});
