import { maxPods, podResources } from '../k3s/resources.js';
import type { Platform } from '../model/platform.js';
import type { Finding } from './finding.js';

const fmt = (n: number) => String(Math.round(n * 100) / 100);

/**
 * CPU and memory per node against its hardware. Requests of the pods that always run (k3s: the
 * HPA minimum, on-demand services stopped) must fit, or pods stay Pending: an error. Limits of
 * everything that can run (every HPA replica, on-demand services started) above the hardware is
 * overcommit: a warning, since a burst of all of them at once can exhaust the node.
 */
export function nodeCapacity(platform: Platform): Finding[] {
  const findings: Finding[] = [];
  for (const node of platform.deployedNodes) {
    const services = platform.services.filter((s) => s.nodes.includes(node));
    let cpuRequests = 0;
    let memoryRequests = 0;
    let cpuLimits = 0;
    let memoryLimits = 0;
    for (const service of services) {
      const r = podResources(service.resources);
      const most = service.perNode ? 1 : maxPods(service);
      cpuLimits += r.cpuLimit * most;
      memoryLimits += r.memoryLimitGb * most;
      if (service.profile) continue;
      const always = service.perNode ? 1 : (service.scaling?.minReplicas ?? 1);
      cpuRequests += r.cpuRequest * always;
      memoryRequests += r.memoryRequestGb * always;
    }
    const fix = 'lower services.<name>.cpus / memoryGb, move services to another node (services.<name>.node), or raise the node figures if they are wrong';
    for (const [what, requested, limited, has, unit, key] of [
      ['CPU', cpuRequests, cpuLimits, node.cpus, 'cores', 'cpus'],
      ['memory', memoryRequests, memoryLimits, node.memoryGb, 'GB', 'memoryGb'],
    ] as const) {
      if (requested > has) {
        findings.push({
          rule: 'node-capacity',
          severity: 'error',
          path: ['nodes', node.name, key],
          message: `${node.name} has ${fmt(has)} ${unit} of ${what} but its pods request ${fmt(requested)} (k3s would leave some Pending)`,
          fix,
        });
      } else if (limited > has) {
        findings.push({
          rule: 'node-capacity',
          severity: 'warning',
          path: ['nodes', node.name, key],
          message: `${node.name} has ${fmt(has)} ${unit} of ${what}; its services' limits add up to ${fmt(limited)} (requests ${fmt(requested)}): overcommitted if all peak at once`,
          fix,
        });
      }
    }
  }
  return findings;
}
