import type { Construct } from 'constructs';
import { ApiObject } from 'cdk8s';
import type { ConfigIssue } from '../lib/config/errors.js';
import type { Platform } from '../lib/model/platform.js';
import type { Zone } from '../lib/model/zone.js';
import { OutputChart } from './output-chart.js';

/** The NetworkAttachmentDefinition pods of a Multus zone name in `k8s.v1.cni.cncf.io/networks`. */
export function multusNetworkName(zone: Zone): string {
  return `vlan-${zone.vlan ?? 0}`;
}

/** Zones whose pods join their VLAN through Multus. */
export function multusZones(platform: Platform): Zone[] {
  return [...platform.zones.values()].filter((z) => z.multus);
}

/**
 * One NetworkAttachmentDefinition per Multus zone: macvlan on `<interface>.<vlan>` of whichever
 * node the pod lands on, addresses handed out cluster-wide by whereabouts from the zone subnet
 * (the gateway excluded). One definition names one parent interface, so every node must use the
 * same interface name.
 */
export class VlansChart extends OutputChart {
  constructor(scope: Construct, platform: Platform, issues: ConfigIssue[]) {
    super(scope, 'vlans', { folder: 'apps/vlans' });
    const interfaces = new Map(platform.deployedNodes.map((n) => [n.name, n.networkInterface]));
    const distinct = [...new Set(interfaces.values())];
    for (const zone of multusZones(platform)) {
      if (distinct.length > 1) {
        issues.push({
          path: ['zones', zone.name, 'multus'],
          message: `one NetworkAttachmentDefinition names one parent interface, but nodes use ${[...interfaces].map(([n, i]) => `${i} (${n})`).join(', ')}; give every node the same interface name`,
        });
        continue;
      }
      const ipam: Record<string, unknown> = { type: 'whereabouts', range: zone.subnet };
      if (zone.gateway) ipam.exclude = [`${zone.gateway}/32`];
      const config = {
        cniVersion: '0.3.1',
        name: multusNetworkName(zone),
        type: 'macvlan',
        master: `${distinct[0] ?? 'eth0'}.${zone.vlan}`,
        mode: 'bridge',
        ipam,
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
