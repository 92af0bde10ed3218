import type { Construct } from 'constructs';
import { ApiObject } from 'cdk8s';
import type { ConfigIssue } from '../lib/config/errors.js';
import { cidrRange, intToIp, ipToInt } from '../lib/model/ipv4.js';
import type { Node } from '../lib/model/node.js';
import type { Platform } from '../lib/model/platform.js';
import type { Zone } from '../lib/model/zone.js';
import { OutputChart } from './output-chart.js';
import { GENERATED_BY } from '../lib/output/yaml.js';

/** The NetworkAttachmentDefinition pods of a Multus zone name in `k8s.v1.cni.cncf.io/networks`. */
export function multusNetworkName(zone: Zone): string {
  return `vlan-${zone.vlan ?? 0}`;
}

/**
 * The VLAN sub-interface every node creates for a Multus zone: one name on every node (`vlan30`),
 * so one NetworkAttachmentDefinition serves nodes whose NICs are named differently. macvlan only
 * attaches to an interface that exists; nothing in the cluster creates it (Docker does for
 * Compose, CNI does not), so each node's `vlans.sh` does, on its own NIC.
 */
export function vlanInterfaceName(zone: Zone): string {
  return `vlan${zone.vlan ?? 0}`;
}

/** Zones whose pods join their VLAN through Multus. */
export function multusZones(platform: Platform): Zone[] {
  return [...platform.zones.values()].filter((z) => z.multus);
}

/**
 * Addresses whereabouts hands to pods of a Multus zone: the upper half of the subnet. The lower
 * half stays for the router (the zone's gateway), the nodes' own addresses on the VLAN and the
 * router's DHCP pool, as Compose's macvlan plan keeps its first block; the gateway is excluded
 * even when it sits in the upper half.
 */
export function whereaboutsRange(zone: Zone): { range: string; range_start: string; range_end: string; exclude?: string[] } {
  const subnet = zone.subnet as string;
  const [first, last] = cidrRange(subnet);
  const start = first + Math.floor((last - first + 1) / 2);
  const gateway = zone.gateway ? ipToInt(zone.gateway) : undefined;
  return {
    range: subnet,
    range_start: intToIp(start),
    range_end: intToIp(last - 1),
    exclude: gateway !== undefined && gateway >= start ? [`${zone.gateway}/32`] : undefined,
  };
}

/** Nodes that run pods of a Multus zone, each with the NIC its VLAN sub-interface sits on. */
export function multusNodes(platform: Platform): Node[] {
  const zones = new Set(multusZones(platform));
  return platform.deployedNodes.filter((n) => platform.services.some((s) => zones.has(s.zone) && !s.external && s.nodes.includes(n)));
}

/** `vlans.sh` of one node: creates each Multus zone's VLAN sub-interface on the node's NIC, idempotently. */
export function nodeVlanScript(platform: Platform, node: Node): string {
  const lines = multusZones(platform).map(
    (zone) => `ensure_vlan ${vlanInterfaceName(zone)} ${zone.vlan} # zone ${zone.name}, ${zone.subnet}`,
  );
  return `#!/bin/sh
# VLAN sub-interfaces for Multus on node ${node.name}: ${GENERATED_BY}
# Run as root before k3s starts, on every boot (see README.md: a systemd unit does it). Idempotent.
# The NIC is nodes.${node.name}.interface of platform.yaml: ${node.networkInterface}. Check it with \`ip -br link\`.
set -eu
nic=${node.networkInterface}
if ! ip link show "$nic" > /dev/null 2>&1; then
  echo "error: no interface $nic on $(hostname); set nodes.${node.name}.interface in platform.yaml (ip -br link lists them)" >&2
  exit 1
fi

# ensure_vlan <name> <vlan id>: an 802.1Q sub-interface of $nic, up, without an address of its own.
ensure_vlan() {
  if ! ip link show "$1" > /dev/null 2>&1; then
    ip link add link "$nic" name "$1" type vlan id "$2"
  fi
  ip link set "$1" up
}

${lines.join('\n')}
`;
}

/**
 * One NetworkAttachmentDefinition per Multus zone: macvlan on the zone's VLAN sub-interface
 * (`vlan<id>`, created on each node by its `vlans.sh`), addresses handed out cluster-wide by
 * whereabouts from the upper half of the zone subnet.
 *
 * NetworkPolicies filter only the pods' primary interface: on the VLAN a pod reaches, and is
 * reached by, every host of that VLAN. An `isolated` zone therefore cannot use Multus.
 */
export class VlansChart extends OutputChart {
  constructor(scope: Construct, platform: Platform, issues: ConfigIssue[]) {
    super(scope, 'vlans', { folder: 'apps/vlans' });
    for (const zone of multusZones(platform)) {
      if (zone.isolated) {
        issues.push({
          path: ['zones', zone.name, 'multus'],
          message:
            `zone "${zone.name}" is isolated, but NetworkPolicies filter only the pods' primary interface: on VLAN ${zone.vlan} its pods would reach, ` +
            `and be reached by, every host of the VLAN; drop multus, or set isolated: false and let the router's VLAN firewall decide`,
        });
        continue;
      }
      const config = {
        cniVersion: '0.3.1',
        name: multusNetworkName(zone),
        type: 'macvlan',
        master: vlanInterfaceName(zone),
        mode: 'bridge',
        ipam: { type: 'whereabouts', ...whereaboutsRange(zone) },
      };
      new ApiObject(this, `nad-${zone.name}`, {
        apiVersion: 'k8s.cni.cncf.io/v1',
        kind: 'NetworkAttachmentDefinition',
        metadata: { name: multusNetworkName(zone), namespace: zone.namespace },
        spec: { config: JSON.stringify(config) },
      });
    }
  }
}
