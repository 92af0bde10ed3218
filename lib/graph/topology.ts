import type { Platform } from '../model/platform.js';
import type { Service } from '../model/service.js';
import { largestModel, ollamaResident } from '../validate/vram.js';

/** The platform as a picture sees it: zones of services, machines, and who calls whom on which port. */
export interface Topology {
  readonly title: string;
  readonly zones: readonly { name: string; label: string; isolated: boolean; services: readonly TopologyService[] }[];
  readonly machines: readonly { name: string; label: string }[];
  readonly edges: readonly { from: string; to: string; label: string }[];
  /** Ports open to the outside, per service. */
  readonly entries: readonly { to: string; label: string }[];
}

export interface TopologyService {
  readonly name: string;
  readonly label: string;
  readonly gpu: boolean;
  readonly external: boolean;
}

const gb = (n: number) => `${Math.round(n * 10) / 10} GB`;

function gpuLine(platform: Platform, service: Service): string | undefined {
  if (!service.gpu) return undefined;
  const need =
    service.name === 'ollama'
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

export function topology(platform: Platform): Topology {
  const zones = [...platform.zones.values()]
    .map((zone) => ({
      name: zone.name,
      label: `${zone.name}${zone.vlan !== undefined ? ` · VLAN ${zone.vlan}` : ''}${zone.isolated ? ' · isolated' : ''}`,
      isolated: zone.isolated,
      services: platform.services
        .filter((s) => s.zone === zone)
        .map((s) => {
          const external = s.external;
          const lines = [s.name, `${s.nodes.map((n) => n.name).join(', ')}${external ? ' (external)' : ''}`];
          const gpu = gpuLine(platform, s);
          if (gpu) lines.push(gpu);
          return { name: s.name, label: lines.join('\n'), gpu: gpu !== undefined, external };
        }),
    }))
    .filter((z) => z.services.length > 0);
  const machines = [...platform.nodes.values()].map((n) => ({
    name: n.name,
    label: `${n.name}\n${n.address}${n.deployed ? '' : ' (external)'} · ${n.cpus} cores · ${n.memoryGb} GB\n${n.describeGpus()}`,
  }));
  const byPair = new Map<string, { from: string; to: string; ports: string[] }>();
  for (const c of platform.connections) {
    const key = `${c.from.name}\0${c.to.name}`;
    const entry = byPair.get(key) ?? { from: c.from.name, to: c.to.name, ports: [] };
    entry.ports.push(c.protocol === 'tcp' ? String(c.port) : `${c.port}/${c.protocol}`);
    byPair.set(key, entry);
  }
  const edges = [...byPair.values()].map((e) => ({ from: e.from, to: e.to, label: [...new Set(e.ports)].join(', ') }));
  const entries = platform.services
    .filter((s) => s.ports.some((p) => p.entry))
    .map((s) => ({ to: s.name, label: s.ports.filter((p) => p.entry).map((p) => `${p.port}/${p.protocol}`).join(', ') }));
  return { title: `${platform.domain} (${platform.config.exposure})`, zones, machines, edges, entries };
}
