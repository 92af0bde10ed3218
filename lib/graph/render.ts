import type { Topology } from './topology.js';

export type GraphFormat = 'mermaid' | 'dot' | 'svg';
export const GRAPH_FORMATS: readonly GraphFormat[] = ['mermaid', 'dot', 'svg'];

const id = (prefix: string, name: string) => `${prefix}_${name.replace(/[^A-Za-z0-9]/g, '_')}`;

/** Mermaid flowchart: renders inside GitHub markdown. */
export function toMermaid(t: Topology): string {
  const label = (text: string) => `"${text.replace(/"/g, '#quot;').replace(/\n/g, '<br/>')}"`;
  const lines = ['flowchart LR', `  internet((${label('Internet')}))`];
  for (const zone of t.zones) {
    lines.push(`  subgraph ${id('zone', zone.name)}[${label(zone.label)}]`);
    for (const s of zone.services) lines.push(`    ${id('svc', s.name)}[${label(s.label)}]`);
    lines.push('  end');
  }
  lines.push(`  subgraph machines[${label('Machines')}]`);
  for (const m of t.machines) lines.push(`    ${id('node', m.name)}[${label(m.label)}]`);
  lines.push('  end');
  for (const e of t.entries) lines.push(`  internet -->|${label(e.label)}| ${id('svc', e.to)}`);
  for (const e of t.edges) lines.push(`  ${id('svc', e.from)} -->|${label(e.label)}| ${id('svc', e.to)}`);
  if (t.backups.destinations.length > 0) {
    lines.push(`  subgraph backups[${label('Backups')}]`);
    for (const d of t.backups.destinations) lines.push(`    ${id('bak', d.name)}[(${label(d.label)})]`);
    lines.push('  end');
    for (const f of t.backups.flows) lines.push(`  ${id('svc', f.from)} -.->|${label(f.label)}| ${id('bak', f.to)}`);
  }
  lines.push('  classDef gpu fill:#e8f5e9,stroke:#2e7d32,stroke-width:2px');
  lines.push('  classDef external stroke-dasharray:5 5');
  lines.push('  classDef machine fill:#f5f5f5,stroke:#9e9e9e');
  // `class` lines rather than `:::`, so one service can be both GPU and external.
  const services = t.zones.flatMap((z) => z.services);
  const classLine = (ids: string[], cls: string) => (ids.length > 0 ? [`  class ${ids.join(',')} ${cls}`] : []);
  lines.push(...classLine(services.filter((s) => s.gpu).map((s) => id('svc', s.name)), 'gpu'));
  lines.push(...classLine(services.filter((s) => s.external).map((s) => id('svc', s.name)), 'external'));
  lines.push(...classLine(t.machines.map((m) => id('node', m.name)), 'machine'));
  return `${lines.join('\n')}\n`;
}

/** Graphviz DOT: zones as clusters, the machines as a cluster of their own. */
export function toDot(t: Topology): string {
  const q = (text: string) => `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
  const lines = [
    'digraph platform {',
    `  graph [rankdir=LR, fontname="Helvetica", fontsize=12, label=${q(t.title)}, labelloc=t, nodesep=0.3, ranksep=1.1];`,
    '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", fontname="Helvetica", fontsize=10, margin="0.25,0.08"];',
    '  edge [fontname="Helvetica", fontsize=9, color="#607d8b", fontcolor="#37474f"];',
    '  internet [label="Internet", shape=ellipse, fillcolor="#eceff1"];',
  ];
  for (const zone of t.zones) {
    lines.push(`  subgraph ${q(`cluster_${zone.name}`)} {`);
    lines.push(`    label=${q(zone.label)}; style="rounded,filled"; fillcolor=${q(zone.isolated ? '#fff8e1' : '#e3f2fd')}; color="#90a4ae";`);
    for (const s of zone.services) {
      const attrs = [`label=${q(s.label)}`];
      if (s.gpu) attrs.push('fillcolor="#e8f5e9"', 'color="#2e7d32"', 'penwidth=2');
      if (s.external) attrs.push('style="rounded,dashed,filled"');
      lines.push(`    ${q(s.name)} [${attrs.join(', ')}];`);
    }
    lines.push('  }');
  }
  lines.push('  subgraph "cluster_machines" {');
  lines.push('    label="Machines"; style="rounded"; color="#bdbdbd";');
  for (const m of t.machines) lines.push(`    ${q(`node:${m.name}`)} [label=${q(m.label)}, shape=box3d, fillcolor="#f5f5f5"];`);
  lines.push('  }');
  for (const e of t.entries) lines.push(`  internet -> ${q(e.to)} [label=${q(e.label)}, color="#c62828", fontcolor="#c62828", penwidth=2];`);
  for (const e of t.edges) lines.push(`  ${q(e.from)} -> ${q(e.to)} [label=${q(e.label)}];`);
  if (t.backups.destinations.length > 0) {
    lines.push('  subgraph "cluster_backups" {', '    label="Backups"; style="rounded"; color="#bdbdbd";');
    for (const d of t.backups.destinations) lines.push(`    ${q(d.name)} [label=${q(d.label)}, shape=cylinder, fillcolor="#fff3e0"];`);
    lines.push('  }');
    for (const f of t.backups.flows) lines.push(`  ${q(f.from)} -> ${q(f.to)} [label=${q(f.label)}, style=dashed, color="#ef6c00", fontcolor="#ef6c00"];`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** SVG from the DOT, in-process (Graphviz compiled to WebAssembly; no system binary). */
export async function toSvg(t: Topology): Promise<string> {
  const { instance } = await import('@viz-js/viz');
  const viz = await instance();
  return viz.renderString(toDot(t), { format: 'svg' });
}

export async function renderGraph(t: Topology, format: GraphFormat): Promise<string> {
  if (format === 'mermaid') return toMermaid(t);
  if (format === 'dot') return toDot(t);
  return toSvg(t);
}
