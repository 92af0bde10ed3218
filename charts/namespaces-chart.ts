import type { Construct } from 'constructs';
import type { ConfigIssue } from '../lib/config/errors.js';
import * as k8s from './k8s.js';
import { MANAGED_BY, MANAGED_BY_LABEL, VLAN_LABEL, ZONE_LABEL } from '../lib/k3s/names.js';
import { zoneLimitRange, zoneQuota } from '../lib/k3s/quotas.js';
import { cpuQuantity, memoryQuantity } from '../lib/k3s/resources.js';
import type { Platform } from '../lib/model/platform.js';
import { OutputChart } from './output-chart.js';

const q = k8s.Quantity.fromString;

/** One namespace per zone, labelled with zone and VLAN, each with a ResourceQuota and a LimitRange. */
export class NamespacesChart extends OutputChart {
  constructor(scope: Construct, platform: Platform, issues: ConfigIssue[]) {
    super(scope, 'namespaces', { folder: 'apps/namespaces' });
    for (const zone of platform.zones.values()) {
      const labels: Record<string, string> = { [ZONE_LABEL]: zone.name, [MANAGED_BY_LABEL]: MANAGED_BY };
      if (zone.vlan !== undefined) labels[VLAN_LABEL] = String(zone.vlan);
      // Deleting the namespaces Application (its finalizer cascades) must never delete a namespace:
      // that would take every claim and its data with it.
      const annotations: Record<string, string> = { 'argocd.argoproj.io/sync-options': 'Delete=false' };
      if (zone.description) annotations['homelab.platform/description'] = zone.description;
      new k8s.KubeNamespace(this, `ns-${zone.name}`, { metadata: { name: zone.namespace, labels, annotations } });
      const quota = zoneQuota(platform, zone, issues);
      new k8s.KubeResourceQuota(this, `quota-${zone.name}`, {
        metadata: { name: 'zone-quota', namespace: zone.namespace },
        spec: {
          hard: {
            'requests.cpu': q(cpuQuantity(quota.cpuRequests)),
            'limits.cpu': q(cpuQuantity(quota.cpuLimits)),
            'requests.memory': q(memoryQuantity(quota.memoryRequestsGb)),
            'limits.memory': q(memoryQuantity(quota.memoryLimitsGb)),
          },
        },
      });
      const limits = zoneLimitRange(platform, zone);
      const pair = (x: { cpu: number; memoryGb: number }) => ({ cpu: q(cpuQuantity(x.cpu)), memory: q(memoryQuantity(x.memoryGb)) });
      new k8s.KubeLimitRange(this, `limits-${zone.name}`, {
        metadata: { name: 'zone-limits', namespace: zone.namespace },
        spec: {
          limits: [
            { type: 'Container', defaultRequest: pair(limits.defaultRequest), default: pair(limits.default), min: pair(limits.min), max: pair(limits.max) },
          ],
        },
      });
    }
  }
}
