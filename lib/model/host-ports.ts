import type { ConfigIssue } from '../config/errors.js';
import type { HostPort } from './link-plan.js';
import type { Platform } from './platform.js';

/** Two services publishing the same port and protocol on one node. */
export function hostPortClashes(platform: Platform): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const node of platform.deployedNodes) {
    const seen = new Map<string, HostPort>();
    for (const hp of platform.linkPlan.published(node)) {
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
