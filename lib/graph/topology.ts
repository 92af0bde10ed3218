import type { Platform } from '../model/platform.js';
import type { Service } from '../model/service.js';
import { largestModel, ollamaResident } from '../validate/vram.js';
import { backupPlan } from '../services/backup.js';

/** The platform as a picture sees it: zones of boxes, machines, and who calls whom on which port. */
export interface Topology {
  readonly title: string;
  /** What one box stands for. */
  readonly detail: TopologyDetail;
  readonly zones: readonly { name: string; label: string; isolated: boolean; services: readonly TopologyService[] }[];
  readonly machines: readonly { name: string; label: string }[];
  readonly edges: readonly { from: string; to: string; label: string }[];
  /** Ports open to the outside, per box. */
  readonly entries: readonly { to: string; label: string }[];
  /** Backup repositories, and which boxes' data goes to each (state volumes, database dumps). */
  readonly backups: { readonly destinations: readonly { name: string; label: string }[]; readonly flows: readonly { from: string; to: string; label: string }[] };
}

/** One box: a service, a stack's part of a zone, or a whole zone. */
export interface TopologyService {
  readonly name: string;
  readonly label: string;
  readonly gpu: boolean;
  readonly external: boolean;
}

/**
 * How fine the picture is: a box per service, per stack within a zone, or per zone. Large
 * platforms are drawn coarser so the picture stays readable and its cost linear.
 */
export type TopologyDetail = 'services' | 'stacks' | 'zones';
export const TOPOLOGY_DETAILS: readonly TopologyDetail[] = ['services', 'stacks', 'zones'];

const gb = (n: number) => `${Math.round(n * 10) / 10} GB`;

function gpuLine(platform: Platform, service: Service): string | undefined {
  if (!service.gpu) return undefined;
  const need =
    service.gpuModels?.kind === 'llm-resident'
      ? ollamaResident(platform).reduce((sum, m) => sum + m.vramGb, 0)
      : (largestModel(platform, service)?.vramGb ?? 0);
  const where = service.nodes
    .map((n) => {
      const devices = platform.gpuDevices(service, n);
      const gpus = devices.length > 0 ? devices.map((d) => n.gpus[d]).filter((g) => g !== undefined) : n.gpus.slice(0, 1);
      return `GPU ${devices.length > 0 ? devices.join('+') : 0} ${gpus.map((g) => `${g.model} ${gb(g.vramGb)}`).join(' + ')}`;
    })
    .join(', ');
  return `${where} · model VRAM ${gb(need)}`;
}

/** A box of the coarser pictures: the services it stands for. */
interface Group {
  readonly key: string;
  readonly zone: string;
  readonly title: string;
  readonly services: Service[];
}

/** Names of a group's members, cut short so a label stays one readable line. */
function members(services: readonly Service[], shown = 4): string {
  const names = services.map((s) => s.name);
  return names.length <= shown ? names.join(', ') : `${names.slice(0, shown).join(', ')} +${names.length - shown} more`;
}

function box(platform: Platform, detail: TopologyDetail, group: Group): TopologyService {
  if (detail === 'services') {
    const s = group.services[0] as Service;
    const lines = [s.name, `${s.nodes.map((n) => n.name).join(', ')}${s.external ? ' (external)' : ''}`];
    const gpu = gpuLine(platform, s);
    if (gpu) lines.push(gpu);
    return { name: group.key, label: lines.join('\n'), gpu: gpu !== undefined, external: s.external };
  }
  const count = group.services.length;
  const label = [group.title, `${count} service${count === 1 ? '' : 's'}: ${members(group.services)}`].join('\n');
  return { name: group.key, label, gpu: group.services.some((s) => s.gpu), external: group.services.every((s) => s.external) };
}

/** Port lists on an edge stay short: a few ports, then a count. */
function portLabel(ports: readonly string[], connections: number, detail: TopologyDetail): string {
  const unique = [...new Set(ports)];
  const shown = unique.length <= 6 ? unique.join(', ') : `${unique.slice(0, 6).join(', ')} +${unique.length - 6}`;
  return detail === 'services' || connections === 1 ? shown : `${connections} connections: ${shown}`;
}

/** The picture at one level of detail; every stage is linear in services and connections. */
export function topology(platform: Platform, detail: TopologyDetail = 'services'): Topology {
  const services = platform.services;
  const groupOf = new Map<Service, Group>();
  const groups = new Map<string, Group>();
  for (const stack of platform.stacks) {
    for (const s of stack.services) {
      const key = detail === 'services' ? s.name : detail === 'stacks' ? `${stack.name}@${s.zone.name}` : s.zone.name;
      const title = detail === 'stacks' ? `${stack.name} stack` : `${s.zone.name} zone`;
      let group = groups.get(key);
      if (!group) {
        group = { key, zone: s.zone.name, title, services: [] };
        groups.set(key, group);
      }
      group.services.push(s);
      groupOf.set(s, group);
    }
  }
  const boxesByZone = new Map<string, TopologyService[]>();
  for (const group of groups.values()) {
    const list = boxesByZone.get(group.zone) ?? [];
    list.push(box(platform, detail, group));
    boxesByZone.set(group.zone, list);
  }
  const zones = [...platform.zones.values()]
    .map((zone) => ({
      name: zone.name,
      label: `${zone.name}${zone.vlan !== undefined ? ` · VLAN ${zone.vlan}` : ''}${zone.isolated ? ' · isolated' : ''}`,
      isolated: zone.isolated,
      services: boxesByZone.get(zone.name) ?? [],
    }))
    .filter((z) => z.services.length > 0);
  const machines = [...platform.nodes.values()].map((n) => ({
    name: n.name,
    label: `${n.name}\n${n.address}${n.deployed ? '' : ' (external)'} · ${n.cpus} cores · ${n.memoryGb} GB\n${n.describeGpus()}`,
  }));
  const byPair = new Map<string, { from: string; to: string; ports: string[]; connections: number }>();
  for (const c of platform.connections) {
    const from = groupOf.get(c.from)?.key ?? c.from.name;
    const to = groupOf.get(c.to)?.key ?? c.to.name;
    if (from === to && detail !== 'services') continue;
    const key = `${from}\0${to}`;
    const entry = byPair.get(key) ?? { from, to, ports: [], connections: 0 };
    entry.ports.push(c.protocol === 'tcp' ? String(c.port) : `${c.port}/${c.protocol}`);
    entry.connections += 1;
    byPair.set(key, entry);
  }
  const edges = [...byPair.values()].map((e) => ({ from: e.from, to: e.to, label: portLabel(e.ports, e.connections, detail) }));
  const entryPorts = new Map<string, string[]>();
  for (const s of services) {
    const open = s.ports.filter((p) => p.entry).map((p) => `${p.port}/${p.protocol}`);
    if (open.length === 0) continue;
    const key = groupOf.get(s)?.key ?? s.name;
    entryPorts.set(key, [...(entryPorts.get(key) ?? []), ...open]);
  }
  const entries = [...entryPorts].map(([to, ports]) => ({ to, label: [...new Set(ports)].join(', ') }));
  return { title: `${platform.domain} (${platform.config.exposure})`, detail, zones, machines, edges, entries, backups: backupFlows(platform, (s) => groupOf.get(s)?.key ?? s.name) };
}

/** Each box whose data is backed up, to each destination: its state volumes and database dumps. */
function backupFlows(platform: Platform, boxOf: (s: Service) => string): Topology['backups'] {
  const plan = backupPlan(platform);
  if (!plan) return { destinations: [], flows: [] };
  const what = new Map<string, Set<string>>();
  const add = (key: string, item: string) => what.set(key, (what.get(key) ?? new Set()).add(item));
  for (const node of plan.nodes) {
    if (node.postgres && node.databases.length > 0) add(boxOf(node.postgres), `pg_dump ${node.databases.length} db`);
    for (const v of node.volumes) add(boxOf(v.service), v.volume);
  }
  const destinations = plan.destinations.map((d) => ({ name: `backup-${d.name}`, label: `backup: ${d.name}\n${d.hostPath ?? 'S3'} · restic · ${plan.schedule}` }));
  const flows = [...what].flatMap(([from, items]) => {
    const label = items.size <= 2 ? [...items].join(', ') : `${items.size} volumes/dumps`;
    return destinations.map((d) => ({ from, to: d.name, label }));
  });
  return { destinations, flows };
}

/**
 * GitHub renders Mermaid with the library's defaults: at most 50,000 characters of source
 * (`maxTextSize`) and 500 edges (`maxEdges`); past either it shows an error instead of a picture
 * (https://mermaid.js.org/config/schema-docs/config.html).
 */
export const MERMAID_LIMITS = { maxTextSize: 50_000, maxEdges: 500 } as const;

/**
 * The finest picture a reader can still see: a box per service while the diagram fits the limits
 * above, else per stack within a zone, else per zone. `render` gives the text the limits apply to.
 */
export function readableTopology(platform: Platform, render: (t: Topology) => string): { topology: Topology; text: string } {
  let last: { topology: Topology; text: string } | undefined;
  for (const detail of TOPOLOGY_DETAILS) {
    const t = topology(platform, detail);
    const text = render(t);
    last = { topology: t, text };
    const edges = t.edges.length + t.entries.length + t.backups.flows.length;
    if (text.length <= MERMAID_LIMITS.maxTextSize && edges <= MERMAID_LIMITS.maxEdges) return last;
  }
  return last as { topology: Topology; text: string };
}
