import type { ConfigIssue } from '../config/errors.js';
import type { Node } from './node.js';
import type { Platform } from './platform.js';
import type { Service } from './service.js';

/** A port a container publishes on its node's bind address. */
export interface HostPort {
  readonly service: Service;
  readonly node: Node;
  readonly port: number;
  readonly protocol: 'tcp' | 'udp';
  /** Why it is published: an entry point for outside clients, or dialled from another node. */
  readonly reason: string;
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
    }
  }
  for (const c of platform.connections) {
    if (!c.to.nodes.includes(node)) continue;
    // Per-node to per-node pairs up instances on the same node; anything else from another node crosses.
    const dialledFromElsewhere = !(c.to.perNode && c.from.perNode) && c.from.nodes.some((n) => n !== node);
    if (dialledFromElsewhere) {
      add({ service: c.to, node, port: c.port, protocol: c.protocol, reason: `dialled by ${c.from.name}` });
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
        issues.push({
          path: hp.service.configPath,
          message:
            `${hp.service.name} and ${other.service.name} both publish ${hp.port}/${hp.protocol} on node "${node.name}" ` +
            `(${hp.node.bindAddress}); move one to another node or port`,
        });
      }
      seen.set(key, hp);
    }
  }
  return issues;
}
