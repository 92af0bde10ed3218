import { cidrRange, intToIp } from './ipv4.js';
import type { Node } from './node.js';
import type { Platform } from './platform.js';
import type { Connection, Service } from './service.js';
import type { Zone } from './zone.js';
import { compareText } from '../output/order.js';

/** Network that gives a service in an isolated zone a way out: internet egress, other nodes, published ports. */
export const UPLINK_NETWORK = 'uplink';

/** Host and port a caller dials. */
export interface Address {
  readonly host: string;
  readonly port: number;
}

/** A port a container publishes on its node's bind address (Compose), and why. */
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

/** One instance of the caller dialling one instance of the callee. */
export interface LinkLeg {
  /** Where the calling instance runs. */
  readonly fromNode: Node;
  /** Where the instance it dials runs. */
  readonly toNode: Node;
  /** Both on one deployed node: dialled inside the callee's zone network, nothing published. */
  readonly sameNode: boolean;
  /** What the caller dials on Compose: the service name on its node, else the callee node's address. */
  readonly compose: Address;
  /**
   * The Compose network both ends join, when the leg stays on the node and the callee has one
   * (a host-network callee has none: it is dialled at its node's bind address).
   */
  readonly network?: string;
}

/** How the k3s NetworkPolicies of a link name the callee. */
export type K3sPeer =
  /** Pods of the callee, selected by namespace and name label. */
  | { readonly kind: 'pod' }
  /** A machine outside the cluster or a host-network pod: pod selectors never match it, its node addresses do. */
  | { readonly kind: 'node-addresses'; readonly addresses: readonly string[] };

/** One declared connection, as both targets carry it. */
export interface Link {
  readonly connection: Connection;
  readonly fromZone: Zone;
  readonly toZone: Zone;
  /** Every (caller instance, callee instance) pair that talks. */
  readonly legs: readonly LinkLeg[];
  /** What the caller dials on k3s: the callee's Kubernetes Service by cluster DNS name. */
  readonly k3s: Address;
  /** How the NetworkPolicies name the callee. */
  readonly k3sPeer: K3sPeer;
}

/** A Docker network a node creates for its stacks (networks.sh). */
export interface NodeNetwork {
  readonly name: string;
  /** The zone it carries; undefined for the uplink. */
  readonly zone?: Zone;
  /** macvlan zones: this node's block of the zone subnet, so two nodes never hand out one address. */
  readonly macvlan?: MacvlanRange;
}

/** In-cluster DNS name of a service's Kubernetes Service. */
export function clusterDns(service: Service): string {
  return `${service.name}.${service.zone.namespace}.svc.cluster.local`;
}

/**
 * The link plan: for every declared connection, which instances talk, whether they share a node,
 * the network both ends join and the address dialled on each target, the NetworkPolicy peer; per
 * node what is published on its bind address and for whom, and which networks each service joins.
 * Computed once from the model and read by the Compose files and networks.sh, the resolvers
 * (config files and environment), the k3s NetworkPolicies, `validate` and `doctor`, so reachability
 * has one answer.
 */
export class LinkPlan {
  readonly links: readonly Link[];
  /**
   * Nodes that receive the outside world's entry ports (80/443/53: where the router points), so
   * the edge's own sites come back in through their addresses.
   */
  readonly entryNodes: readonly Node[];
  private readonly publishedByNode = new Map<Node, HostPort[]>();
  private readonly byCaller = new Map<Service, Link[]>();
  private readonly networksCache = new Map<string, readonly string[]>();

  constructor(private readonly platform: Platform) {
    this.links = platform.connections.map((c) => planLink(c));
    for (const link of this.links) {
      const list = this.byCaller.get(link.connection.from);
      if (list) list.push(link);
      else this.byCaller.set(link.connection.from, [link]);
    }
    const deployed = platform.services.filter((s) => !s.external);
    this.entryNodes = [...new Set(deployed.filter((s) => s.ports.some((p) => p.entry)).flatMap((s) => s.nodes))];
    for (const node of platform.deployedNodes) this.publishedByNode.set(node, this.computePublished(node));
  }

  /** Links whose caller is `service`, in its declaration order. */
  linksFrom(service: Service): readonly Link[] {
    return this.byCaller.get(service) ?? [];
  }

  /** The link of `connection`. */
  linkOf(connection: Connection): Link {
    const link = this.linksFrom(connection.from).find((l) => l.connection === connection);
    if (!link) throw new Error(`${connection.from.name} -> ${connection.to.name}: not a connection of this platform`);
    return link;
  }

  /**
   * Compose: the host a caller on `fromNode` dials to reach `to` on `toNode`: the Compose service
   * name beside it (Docker's DNS on the shared zone network), the other node's bind address and
   * published port across nodes, the machine's LAN address when it is not deployed to.
   */
  composeHost(to: Service, toNode: Node, fromNode: Node): string {
    if (!toNode.deployed) return toNode.address;
    // A host-network service has no name on any Docker network; it listens on its node's address.
    if (to.security.hostNetwork) return toNode.bindAddress;
    return toNode === fromNode ? to.name : toNode.bindAddress;
  }

  /** Compose: the instance of `to` a caller on `fromNode` dials when it dials one: the one beside it, else the first. */
  composeInstance(to: Service, fromNode: Node): Node {
    const node = to.nodes.includes(fromNode) ? fromNode : to.nodes[0];
    if (!node) throw new Error(`${to.name} runs on no node`);
    return node;
  }

  /** Compose: every port published on `node`'s bind address, by service then port. */
  published(node: Node): readonly HostPort[] {
    return this.publishedByNode.get(node) ?? [];
  }

  /** Compose: the ports `service` publishes on `node`. */
  publishedBy(service: Service, node: Node): readonly HostPort[] {
    return this.published(node).filter((p) => p.service === service);
  }

  /**
   * Compose: the networks `service` joins on `node`: its zone's, the zone network of each service
   * it dials on the same node, and the uplink when it is in an isolated zone and needs a way out
   * (internet egress, a callee on another node) or publishes a port from a zone Docker cannot
   * publish from. A host-network service joins none.
   */
  networks(service: Service, node: Node): readonly string[] {
    const key = `${service.node.path}@${node.name}`;
    const cached = this.networksCache.get(key);
    if (cached) return cached;
    const networks = new Set<string>();
    if (!service.security.hostNetwork) {
      networks.add(service.zone.networkName);
      let leavesNode = false;
      for (const link of this.linksFrom(service)) {
        for (const leg of link.legs) {
          if (leg.fromNode !== node) continue;
          // Beside it on a shared network, or out of this node's Docker networks (another node,
          // a machine not deployed to, or a host-network callee at its node's address).
          if (leg.network) networks.add(leg.network);
          else leavesNode = true;
        }
      }
      const publishes = this.publishedBy(service, node).length > 0;
      // Docker publishes ports only through a bridge network that is not internal.
      const publishable = !service.zone.isolated && service.zone.driver === 'bridge';
      if ((service.zone.isolated && (service.egress.length > 0 || leavesNode)) || (publishes && !publishable)) networks.add(UPLINK_NETWORK);
    }
    const list = [...networks].sort();
    this.networksCache.set(key, list);
    return list;
  }

  /** Compose: the networks `node` creates (networks.sh): those its services join, zones by name, then the uplink. */
  nodeNetworks(node: Node): NodeNetwork[] {
    const names = new Set(this.platform.services.filter((s) => s.nodes.includes(node)).flatMap((s) => this.networks(s, node)));
    const out: NodeNetwork[] = [];
    const deployed = this.platform.deployedNodes;
    for (const zone of [...this.platform.zones.values()].sort((a, b) => compareText(a.name, b.name))) {
      if (!names.has(zone.networkName)) continue;
      const macvlan = zone.driver === 'macvlan' ? macvlanRange(zone.subnet as string, deployed.indexOf(node), deployed.length, zone.gateway) : undefined;
      out.push(macvlan ? { name: zone.networkName, zone, macvlan } : { name: zone.networkName, zone });
    }
    if (names.has(UPLINK_NETWORK)) out.push({ name: UPLINK_NETWORK });
    return out;
  }

  /**
   * Entry ports always; any other port only when an instance of a caller on another node dials it
   * (a per-node caller pairs with the callee's instance on its own node), and then on the node's
   * bind address only. A host-network service publishes nothing but holds its ports on the host
   * all the same.
   */
  private computePublished(node: Node): HostPort[] {
    const out = new Map<string, HostPort>();
    const add = (hp: HostPort) => {
      const key = `${hp.service.name}/${hp.port}/${hp.protocol}`;
      if (!out.has(key)) out.set(key, hp);
    };
    for (const service of this.platform.services) {
      if (!service.nodes.includes(node)) continue;
      for (const p of service.ports) {
        if (p.entry) add({ service, node, port: p.port, protocol: p.protocol, reason: `entry (${p.name})` });
        else if (service.security.hostNetwork) add({ service, node, port: p.port, protocol: p.protocol, reason: 'host network' });
      }
    }
    for (const link of this.links) {
      const c = link.connection;
      if (link.legs.some((leg) => leg.toNode === node && leg.fromNode !== node)) {
        add({ service: c.to, node, port: c.port, protocol: c.protocol, reason: `dialled by ${c.from.name}`, dialledBy: c });
      }
    }
    return [...out.values()].sort((a, b) => compareText(a.service.name, b.service.name) || a.port - b.port || compareText(a.protocol, b.protocol));
  }
}

function planLink(c: Connection): Link {
  const pairs = c.from.perNode && c.to.perNode;
  const legs: LinkLeg[] = [];
  for (const toNode of c.to.nodes) {
    for (const fromNode of c.fromNodes) {
      // Per-node to per-node pairs up the instances on one node; anything else dials every instance.
      if (pairs && fromNode !== toNode) continue;
      const sameNode = fromNode === toNode && toNode.deployed;
      const host = !toNode.deployed ? toNode.address : c.to.security.hostNetwork || !sameNode ? toNode.bindAddress : c.to.name;
      const network = sameNode && !c.to.security.hostNetwork ? c.to.zone.networkName : undefined;
      legs.push(network ? { fromNode, toNode, sameNode, compose: { host, port: c.port }, network } : { fromNode, toNode, sameNode, compose: { host, port: c.port } });
    }
  }
  const k3sPeer: K3sPeer =
    c.to.external || c.to.security.hostNetwork ? { kind: 'node-addresses', addresses: c.to.nodes.map((n) => n.address) } : { kind: 'pod' };
  return { connection: c, fromZone: c.from.zone, toZone: c.to.zone, legs, k3s: { host: clusterDns(c.to), port: c.port }, k3sPeer };
}

/*
 * Addresses for a macvlan zone network. Every node creates the same network on the same VLAN, and
 * Docker's address allocation is per host: without separate ranges two nodes would hand out the
 * same address. The subnet is split into power-of-two blocks; block 0 stays for the router and
 * other hosts on the VLAN, node i allocates from block i + 1.
 */

/** Blocks needed for `nodeCount` nodes plus the reserved block 0. */
function blockBits(nodeCount: number): number {
  return Math.ceil(Math.log2(nodeCount + 1));
}

/** The smallest subnet prefix that still gives each node a block of at least 4 addresses. */
export function largestPrefixFor(nodeCount: number): number {
  return 30 - blockBits(nodeCount);
}

export interface MacvlanRange {
  readonly gateway: string;
  /** The block this node's Docker allocates container addresses from. */
  readonly ipRange: string;
}

export function macvlanRange(subnet: string, nodeIndex: number, nodeCount: number, gateway?: string): MacvlanRange {
  const prefix = Number(subnet.split('/')[1]);
  const [base] = cidrRange(subnet);
  const rangePrefix = prefix + blockBits(nodeCount);
  if (rangePrefix > 30) throw new Error(`subnet ${subnet} is too small to split between ${nodeCount} nodes`);
  const blockSize = 2 ** (32 - rangePrefix);
  return { gateway: gateway ?? intToIp(base + 1), ipRange: `${intToIp(base + (nodeIndex + 1) * blockSize)}/${rangePrefix}` };
}
