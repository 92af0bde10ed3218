import type { Construct } from 'constructs';
import * as k8s from './k8s.js';
import { NAME_LABEL, NAMESPACE_NAME_LABEL } from '../lib/k3s/names.js';
import { CGNAT_RANGE, LINK_LOCAL_RANGE, PRIVATE_RANGES } from '../lib/model/ipv4.js';
import type { Platform } from '../lib/model/platform.js';
import type { Service } from '../lib/model/service.js';
import { podDiscoveryNamespaces } from './context.js';
import { OutputChart } from './output-chart.js';
import { compareText } from '../lib/output/order.js';

/** Port of the Kubernetes API on k3s servers (what the `kubernetes` Service forwards to). */
export const KUBE_API_PORT = 6443;
/** Where "the internet" is: everything but private, carrier-grade NAT (Tailscale) and link-local ranges. */
export const INTERNET = { cidr: '0.0.0.0/0', except: [...PRIVATE_RANGES, CGNAT_RANGE, LINK_LOCAL_RANGE].sort() };
/** What an egress destination is reached on when it says nothing else. */
const WEB_PORTS = [
  { port: 80, protocol: 'TCP' },
  { port: 443, protocol: 'TCP' },
];

type Port = { port: number; protocol: string };
type Peer = { key: string; peer: k8s.NetworkPolicyPeer };

/** Allowed flows of one pod, by peer. */
class Flows {
  private readonly byPeer = new Map<string, { peer: k8s.NetworkPolicyPeer; ports: Map<string, Port> }>();

  add(peer: Peer, ports: readonly Port[]): void {
    const entry = this.byPeer.get(peer.key) ?? { peer: peer.peer, ports: new Map<string, Port>() };
    for (const p of ports) entry.ports.set(`${p.protocol}/${p.port}`, p);
    this.byPeer.set(peer.key, entry);
  }

  get empty(): boolean {
    return this.byPeer.size === 0;
  }

  /** Rules sorted by peer, ports by number then protocol: the same bytes every run. */
  rules(): { peer: k8s.NetworkPolicyPeer; ports: k8s.NetworkPolicyPort[] }[] {
    return [...this.byPeer.entries()]
      .sort(([a], [b]) => compareText(a, b))
      .map(([, { peer, ports }]) => ({
        peer,
        ports: [...ports.values()]
          .sort((a, b) => a.port - b.port || compareText(a.protocol, b.protocol))
          .map((p) => ({ port: k8s.IntOrString.fromNumber(p.port), protocol: p.protocol })),
      }));
  }
}

function podPeer(service: Service): Peer {
  return {
    key: `pod:${service.zone.namespace}/${service.name}`,
    peer: {
      namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: service.zone.namespace } },
      podSelector: { matchLabels: { [NAME_LABEL]: service.name } },
    },
  };
}

function ipPeer(cidr: string, except?: string[]): Peer {
  return { key: `ip:${cidr}`, peer: { ipBlock: { cidr, except } } };
}

const ANY_POD: Peer = { key: 'pods:any', peer: { namespaceSelector: {} } };

/**
 * Deny by default in every zone namespace, allow DNS to CoreDNS, then exactly the declared
 * connections (egress at the consumer, ingress at the provider, on the dialled port), the public
 * entry ports, internet egress for the services that declare it, and API access for discovery.
 */
export class NetworkPoliciesChart extends OutputChart {
  constructor(scope: Construct, platform: Platform) {
    super(scope, 'network-policies', { folder: 'apps/network-policies' });
    for (const zone of platform.zones.values()) {
      new k8s.KubeNetworkPolicy(this, `deny-${zone.name}`, {
        metadata: { name: 'default-deny', namespace: zone.namespace },
        spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
      });
      new k8s.KubeNetworkPolicy(this, `dns-${zone.name}`, {
        metadata: { name: 'allow-dns', namespace: zone.namespace },
        spec: {
          podSelector: {},
          policyTypes: ['Egress'],
          egress: [
            {
              to: [
                {
                  namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: 'kube-system' } },
                  podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
                },
              ],
              ports: [
                { port: k8s.IntOrString.fromNumber(53), protocol: 'UDP' },
                { port: k8s.IntOrString.fromNumber(53), protocol: 'TCP' },
              ],
            },
          ],
        },
      });
    }

    const ingress = new Map<Service, Flows>();
    const egress = new Map<Service, Flows>();
    const flows = (map: Map<Service, Flows>, s: Service) => {
      let f = map.get(s);
      if (!f) map.set(s, (f = new Flows()));
      return f;
    };
    const deployed = platform.services.filter((s) => !s.external);

    for (const link of platform.linkPlan.links) {
      const c = link.connection;
      if (c.from.external) continue;
      const port = [{ port: c.port, protocol: c.protocol.toUpperCase() }];
      if (link.k3sPeer.kind === 'node-addresses') {
        for (const address of link.k3sPeer.addresses) flows(egress, c.from).add(ipPeer(`${address}/32`), port);
      } else {
        flows(egress, c.from).add(podPeer(c.to), port);
        flows(ingress, c.to).add(podPeer(c.from), port);
      }
    }

    const entryNodes = platform.linkPlan.entryNodes;
    const servers = platform.deployedNodes.filter((n) => n.role === 'server');
    for (const service of deployed) {
      const entry = service.ports.filter((p) => p.entry).map((p) => ({ port: p.port, protocol: p.protocol.toUpperCase() }));
      if (entry.length > 0) {
        // Public entry points: from anywhere, and from any pod (ServiceLB forwards from its own pods).
        flows(ingress, service).add(ipPeer('0.0.0.0/0'), entry);
        flows(ingress, service).add(ANY_POD, entry);
      }
      if (service.egress.length > 0) {
        const ports = service.egress.flatMap((e) => e.ports?.map((p) => ({ port: p.port, protocol: p.protocol.toUpperCase() })) ?? WEB_PORTS);
        flows(egress, service).add(ipPeer(INTERNET.cidr, INTERNET.except), ports);
        // Probes of the platform's own sites come back in through the edge nodes' addresses.
        if (service.egress.some((e) => e.host === platform.domain || e.host.endsWith(`.${platform.domain}`))) {
          for (const node of entryNodes) flows(egress, service).add(ipPeer(`${node.address}/32`), WEB_PORTS);
        }
      }
      if (podDiscoveryNamespaces(service).length > 0) {
        for (const node of servers) flows(egress, service).add(ipPeer(`${node.address}/32`), [{ port: KUBE_API_PORT, protocol: 'TCP' }]);
      }
    }

    for (const service of deployed) {
      const selector = { matchLabels: { [NAME_LABEL]: service.name } };
      const inFlows = ingress.get(service);
      if (inFlows && !inFlows.empty) {
        new k8s.KubeNetworkPolicy(this, `${service.name}-ingress`, {
          metadata: { name: `${service.name}-ingress`, namespace: service.zone.namespace },
          spec: { podSelector: selector, policyTypes: ['Ingress'], ingress: inFlows.rules().map((r) => ({ from: [r.peer], ports: r.ports })) },
        });
      }
      const outFlows = egress.get(service);
      if (outFlows && !outFlows.empty) {
        new k8s.KubeNetworkPolicy(this, `${service.name}-egress`, {
          metadata: { name: `${service.name}-egress`, namespace: service.zone.namespace },
          spec: { podSelector: selector, policyTypes: ['Egress'], egress: outFlows.rules().map((r) => ({ to: [r.peer], ports: r.ports })) },
        });
      }
    }
  }
}
