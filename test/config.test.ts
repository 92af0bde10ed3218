import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../lib/config/errors.js';
import { referenceConfig } from '../lib/config/load.js';
import { configJsonSchema } from '../lib/config/schema.js';
import { buildPlatform, renderTargets } from '../lib/synth.js';
import { fixtureNames, FIXTURES, inlineConfig, loadFixture } from './support/render.js';

describe('valid fixtures', () => {
  it.each(fixtureNames('valid'))('%s loads and builds', (name) => {
    const platform = buildPlatform(loadFixture('valid', name));
    expect(platform.services.length).toBeGreaterThan(10);
  });
});

describe('invalid fixtures: the exact message the user sees', () => {
  it.each(fixtureNames('invalid'))('%s', async (name) => {
    const expected = readFileSync(join(FIXTURES, 'invalid', `${name}.error`), 'utf8').trimEnd();
    let error: unknown;
    try {
      // Every check a `platform synth` runs, both targets included.
      const loaded = loadFixture('invalid', name);
      await renderTargets(loaded, 'all', 'coolify');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message.replaceAll(`${FIXTURES}/`, 'test/fixtures/')).toBe(expected);
  });
});

describe('the embedded reference platform', () => {
  it('is what an empty config gives', () => {
    expect(inlineConfig({}).config).toEqual(referenceConfig().config);
  });

  it('is the reference homelab: two nodes, five zones, the RTX 4090 on rtx', () => {
    const { config } = referenceConfig();
    expect(Object.keys(config.nodes)).toEqual(['homelab', 'rtx']);
    expect(config.nodes.rtx?.gpus).toEqual([{ model: 'RTX 4090', vramGb: 24, vendor: 'nvidia' }]);
    expect(Object.fromEntries(Object.entries(config.zones).map(([n, z]) => [n, z.vlan]))).toEqual({
      dmz: 10,
      edge: 20,
      gpu: 30,
      services: 40,
      monitoring: 50,
    });
    expect(config.models.ollama.map((m) => m.alias)).toEqual(['gpt-4', 'gpt-3.5-turbo', 'text-embedding-ada-002', 'gpt-4-vision-preview']);
  });

  it('defaults TLS from exposure: acme when public, internal otherwise', () => {
    expect(buildPlatform(referenceConfig()).tls).toBe('acme');
    expect(buildPlatform(inlineConfig({ exposure: 'lan' })).tls).toBe('internal');
  });
});

describe('cross-field checks', () => {
  const message = (data: Parameters<typeof inlineConfig>[0]) => {
    try {
      buildPlatform(inlineConfig(data));
    } catch (err) {
      return (err as Error).message;
    }
    return 'no error';
  };

  it('rejects a VLAN id used by two zones', () => {
    expect(message({ zones: { a: { vlan: 10 }, b: { vlan: 10 } } })).toContain('zones.b.vlan: VLAN 10 is already used by zone "a"');
  });

  it('rejects pinning a GPU index the node does not have', () => {
    expect(message({ services: { ollama: { gpuDevices: [3] } } })).toContain('services.ollama.gpuDevices: GPU 3 does not exist on node "rtx" (GPUs 0-0)');
  });

  it('rejects a platform with no server node', () => {
    expect(message({ nodes: { rtx: { role: 'gpu', address: '192.168.1.11', gpus: [{ model: 'RTX 4090', vramGb: 24 }] } } })).toContain(
      'nodes: at least one node must have role server',
    );
  });

  it('rejects a zone the reference services need when it is missing', () => {
    expect(message({ zones: { gpu: null } as never })).toContain(
      'zones: ollama lives in zone "gpu", which is not defined',
    );
  });

  it('rejects a static app that connects somewhere', () => {
    expect(message({ apps: { app: { kind: 'static', root: '/srv/app', route: { host: 'app' }, connects: ['litellm'] } } })).toContain(
      'apps.app.connects: a static app runs in the browser',
    );
  });

  it('rejects a CORS origin that is not a route', () => {
    expect(message({ apps: { api: { image: 'x/api:1.0.0', port: 3001, route: { host: 'api', cors: ['web'] } } } })).toContain(
      'apps.api.route.cors[0]: no route has host "web"',
    );
  });

  it('rejects a fallback to an unknown model', () => {
    expect(message({ models: { ollama: [{ name: 'a', vramGb: 1, fallbacks: ['b'] }] } })).toContain(
      'models.ollama[0].fallbacks[0]: no model or alias is named "b"',
    );
  });
});

describe('JSON Schema', () => {
  it('describes every top-level key with a description, and rejects unknown keys', () => {
    const schema = configJsonSchema() as { properties: Record<string, { description?: string }>; additionalProperties: boolean };
    expect(schema.additionalProperties).toBe(false);
    for (const [key, property] of Object.entries(schema.properties)) {
      expect(property.description, key).toBeTruthy();
    }
  });
});

describe('app environment', () => {
  it('rejects a variable that a connection sets', () => {
    let message = '';
    try {
      buildPlatform(inlineConfig({ apps: { api: { image: 'x/api:1.0.0', port: 3001, connects: ['litellm'], env: { LITELLM_URL: 'http://elsewhere' } } } }));
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe('inline.yaml: apps.api.env.LITELLM_URL: LITELLM_URL is set by the connection to litellm; remove it or choose another name');
  });
});
