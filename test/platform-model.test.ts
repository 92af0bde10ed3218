import { describe, expect, it } from 'vitest';
import { referenceConfig } from '../lib/config/load.js';
import { Service } from '../lib/model/service.js';
import { buildPlatform } from '../lib/synth.js';

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
      ports: [{ port: 8080 }],
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
