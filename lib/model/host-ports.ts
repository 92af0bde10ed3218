import type { ConfigIssue } from '../config/errors.js';
import type { Node } from './node.js';
import type { Platform } from './platform.js';
import type { Connection, Service } from './service.js';

/** A port a container publishes on its node's bind address. */
export interface HostPort {
  readonly service: Service;
  readonly node: Node;
  readonly port: number;
  readonly protocol: 'tcp' | 'udp';
  /** Why it is published: an entry point for outside clients, or dialled from another node. */
  readonly reason: string;
  /** The connection from another node that makes it published, if that is the reason. */
  readonly dialledBy?: Connection;
}

/**
 * Host ports on node-level targets (Compose): entry ports always; any other port only when a
 * service on another node dials it, and then only on the node's bind address.
 */
export function hostPorts(platform: Platform, node: Node): HostPort[] {
  const out = new Map<string, HostPort>();
  const add = (hp: HostPort) => {
    const key = `${hp.service.name}/${hp.port}/${hp.protocol}`;
    if (!out.has(key)) out.set(key, hp);
  };
  for (const service of platform.services) {
    if (!service.nodes.includes(node)) continue;
    for (const p of service.ports) {
      if (p.entry) add({ service, node, port: p.port, protocol: p.protocol ?? 'tcp', reason: `entry (${p.name})` });
      // Not published by Docker, but held on the host all the same.
      else if (service.security.hostNetwork) add({ service, node, port: p.port, protocol: p.protocol ?? 'tcp', reason: 'host network' });
    }
  }
  for (const c of platform.connections) {
    if (!c.to.nodes.includes(node)) continue;
    // Per-node to per-node pairs up instances on the same node; anything else from another node crosses.
    const dialledFromElsewhere = !(c.to.perNode && c.from.perNode) && c.fromNodes.some((n) => n !== node);
    if (dialledFromElsewhere) {
      add({ service: c.to, node, port: c.port, protocol: c.protocol, reason: `dialled by ${c.from.name}`, dialledBy: c });
    }
  }
  return [...out.values()].sort((a, b) => a.service.name.localeCompare(b.service.name) || a.port - b.port || a.protocol.localeCompare(b.protocol));
}

/** Two services publishing the same port and protocol on one node. */
export function hostPortClashes(platform: Platform): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const node of platform.deployedNodes) {
    const seen = new Map<string, HostPort>();
    for (const hp of hostPorts(platform, node)) {
      const key = `${hp.port}/${hp.protocol}`;
      const other = seen.get(key);
      if (other && other.service !== hp.service) {
        const by = hp.dialledBy?.from;
        const why = by ? ` (dialled by ${by.name} on ${by.nodes.map((n) => n.name).join(', ')})` : '';
        const fix = by ? `place ${by.name} on node "${node.name}" or ${hp.service.name} on another node` : `move one of them to another node`;
        issues.push({
          path: by && by.configPath[0] === 'apps' ? [...by.configPath, 'connects'] : hp.service.configPath,
          message:
            `${hp.service.name}${why} would publish ${hp.port}/${hp.protocol} on node "${node.name}" (${node.bindAddress}), ` +
            `which ${other.service.name} already publishes; ${fix}`,
          rule: 'host-port-clash',
        });
      }
      seen.set(key, hp);
    }
  }
  return issues;
}
