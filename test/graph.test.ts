import { XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { parseConfig, referenceConfig } from '../lib/config/load.js';
import { toDot, toMermaid, toSvg } from '../lib/graph/render.js';
import { MERMAID_LIMITS, readableTopology, topology, TOPOLOGY_DETAILS } from '../lib/graph/topology.js';
import { generateAppsConfig } from './bench/generate-apps.mjs';
import { buildPlatform } from '../lib/synth.js';
import type { Service } from '../lib/model/service.js';
import { fixtureNames, loadFixture } from './support/render.js';

const platform = buildPlatform(referenceConfig());
const picture = topology(platform);
const mermaid = toMermaid(picture);
const dot = toDot(picture);
const id = (name: string) => `svc_${name.replace(/[^A-Za-z0-9]/g, '_')}`;

describe('platform graph', () => {
  it('mermaid and dot of the reference, pinned', async () => {
    await expect(mermaid).toMatchFileSnapshot('__snapshots__/graph/reference.mmd');
    await expect(dot).toMatchFileSnapshot('__snapshots__/graph/reference.dot');
  });

  it('draws every service in its zone, with the zone VLAN', () => {
    for (const zone of platform.zones.values()) {
      expect(mermaid).toContain(`subgraph zone_${zone.name}["${zone.name} · VLAN ${zone.vlan}`);
    }
    for (const service of platform.services) {
      expect(mermaid, service.name).toMatch(new RegExp(`^    ${id(service.name)}\\["${service.name}<br/>`, 'm'));
      expect(dot, service.name).toContain(`"${service.name}" [label="${service.name}\\n`);
    }
  });

  it('draws every connection with its port, and the entry points from the internet', () => {
    for (const c of platform.connections) {
      expect(mermaid, `${c.from.name} -> ${c.to.name}`).toMatch(new RegExp(`^  ${id(c.from.name)} -->\\|"[^"]*\\b${c.port}\\b[^"]*"\\| ${id(c.to.name)}$`, 'm'));
      expect(dot).toMatch(new RegExp(`^  "${c.from.name}" -> "${c.to.name}" \\[label="[^"]*\\b${c.port}\\b`, 'm'));
    }
    expect(mermaid).toContain('  internet -->|"80/tcp, 443/tcp, 443/udp"| svc_caddy');
    expect(mermaid).toContain('  internet -->|"53/udp, 53/tcp"| svc_technitium');
  });

  it('marks GPU services with their GPU and VRAM, and shows the machines with theirs', () => {
    expect(mermaid).toContain('svc_ollama["ollama<br/>rtx<br/>GPU 0 RTX 4090 24 GB · model VRAM 65.8 GB"]');
    expect(mermaid).toContain('  class svc_ollama,svc_comfyui,svc_mochi,svc_cogvideox gpu\n');
    expect(mermaid).toContain('node_rtx["rtx<br/>192.168.1.11 · 16 cores · 64 GB<br/>1x RTX 4090 (24 GB)"]');
  });

  it.each(['reference', ...fixtureNames('valid')])('%s: the SVG is well-formed XML with every service in it', async (name) => {
    const p = name === 'reference' ? platform : buildPlatform(loadFixture('valid', name));
    const svg = await toSvg(topology(p));
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(svg).toMatch(/<svg[^>]*width="\d+pt"/);
    // Graphviz writes some characters as numeric entities (`-` is `&#45;`).
    const text = svg.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));
    for (const service of p.services) expect(text, service.name).toContain(`>${service.name}</text>`);
  });

  it('the SVG is the same every time', async () => {
    expect(await toSvg(picture)).toBe(await toSvg(topology(buildPlatform(referenceConfig()))));
  });

  it('the XML check can fail', () => {
    expect(XMLValidator.validate('<svg><g></svg>')).not.toBe(true);
  });
});

describe('large platforms', () => {
  const big = buildPlatform(parseConfig(generateAppsConfig(400) as string, 'apps.yaml'));

  it('a box per service while GitHub can draw it; coarser past its Mermaid limits', () => {
    expect(readableTopology(platform, toMermaid).topology.detail).toBe('services');
    const { topology: coarse, text } = readableTopology(big, toMermaid);
    expect(coarse.detail).not.toBe('services');
    expect(text.length).toBeLessThanOrEqual(MERMAID_LIMITS.maxTextSize);
    expect(coarse.edges.length + coarse.entries.length).toBeLessThanOrEqual(MERMAID_LIMITS.maxEdges);
    // A box per service would not fit: the limit check can fail.
    const fine = toMermaid(topology(big, 'services'));
    expect(fine.length > MERMAID_LIMITS.maxTextSize || topology(big, 'services').edges.length > MERMAID_LIMITS.maxEdges).toBe(true);
  });

  it('every service is in exactly one box, and every connection between boxes is drawn', () => {
    const keys = { stacks: (s: Service) => `${s.stackName}@${s.zone.name}`, zones: (s: Service) => s.zone.name };
    for (const detail of TOPOLOGY_DETAILS) {
      const t = topology(big, detail);
      const boxes = t.zones.flatMap((z) => z.services);
      expect(new Set(boxes.map((b) => b.name)).size, detail).toBe(boxes.length);
      if (detail === 'services') continue;
      const counted = t.edges.reduce((n, e) => n + Number(/^(\d+) connections/.exec(e.label)?.[1] ?? 1), 0);
      const crossing = big.connections.filter((c) => keys[detail](c.from) !== keys[detail](c.to)).length;
      expect(counted, detail).toBe(crossing);
    }
    const zones = topology(big, 'zones');
    expect(zones.zones.map((z) => z.services.map((b) => b.name))).toEqual(zones.zones.map((z) => [z.name]));
    expect(zones.zones.find((z) => z.name === 'edge')?.services[0]?.label).toMatch(/^edge zone\n\d+ services: caddy, litellm, open-webui, app0000x \+\d+ more$/);
  });
});
