import { XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { referenceConfig } from '../lib/config/load.js';
import { toDot, toMermaid, toSvg } from '../lib/graph/render.js';
import { topology } from '../lib/graph/topology.js';
import { buildPlatform } from '../lib/synth.js';
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
