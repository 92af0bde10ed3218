import type { Node } from '../model/node.js';
import type { Platform } from '../model/platform.js';
import type { Secret } from '../model/secret.js';
import type { Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import { compareText } from '../output/order.js';

export { UPLINK_NETWORK } from '../model/link-plan.js';

/** One compose file: the services of one stack on one node. */
export interface ComposeUnit {
  readonly node: Node;
  readonly stack: Stack;
  /** Compose project name: the stack's, or `<stack>-<profile>` for services split out of a profile. */
  readonly name: string;
  readonly services: readonly Service[];
  /** `<node>/<name>` */
  readonly dir: string;
  /** Files that must be deployed before this one (`<node>/<stack>`), from ordering connections. */
  readonly after: string[];
}

export interface ComposeUnitOptions {
  /**
   * Put the services of each compose profile in a file of their own (`<stack>-<profile>`), with no
   * profile: Coolify starts a compose file with `docker compose up -d` and never passes `--profile`
   * (ApplicationDeploymentJob.php), so a profiled service would never start there. Deploying or
   * stopping that file is how it starts on demand.
   * @default false
   */
  readonly splitProfiles?: boolean;
}

/**
 * Every (deployed node, stack) pair that has at least one service, in deploy order: a file comes
 * after every file holding a service it has an ordering connection to (litellm on one node waits
 * for ollama on another). Ties keep stack order, then node order.
 */
export function composeUnits(platform: Platform, options: ComposeUnitOptions = {}): ComposeUnit[] {
  const candidates: ComposeUnit[] = [];
  for (const stack of platform.stackOrder()) {
    for (const node of platform.deployedNodes) {
      const services = stack.services.filter((s) => s.nodes.includes(node)).sort((a, b) => compareText(a.name, b.name));
      const groups = new Map<string, Service[]>();
      for (const service of services) {
        const key = options.splitProfiles && service.profile ? `${stack.name}-${service.profile}` : stack.name;
        groups.set(key, [...(groups.get(key) ?? []), service]);
      }
      for (const [name, group] of [...groups].sort(([a], [b]) => (a === stack.name ? -1 : b === stack.name ? 1 : compareText(a, b)))) {
        candidates.push({ node, stack, name, services: group, dir: `${node.name}/${name}`, after: [] });
      }
    }
  }
  const order = platform.startOrder;
  const holding = (service: Service, near: Node) =>
    candidates.filter((u) => u.services.includes(service) && (!service.perNode || u.node === near || !service.nodes.includes(near)));
  const deps = new Map<ComposeUnit, Set<ComposeUnit>>();
  for (const unit of candidates) {
    const set = new Set<ComposeUnit>();
    for (const service of unit.services) {
      for (const dep of order.waitsFor(service)) {
        for (const provider of holding(dep, unit.node)) if (provider !== unit) set.add(provider);
      }
    }
    deps.set(unit, set);
    unit.after.push(...[...set].map((d) => d.dir));
  }
  const ordered: ComposeUnit[] = [];
  const remaining = [...candidates];
  while (remaining.length > 0) {
    // A cycle across files cannot be ordered; fall back to stack order for what is left.
    const next = remaining.find((u) => [...(deps.get(u) ?? [])].every((d) => ordered.includes(d))) ?? (remaining[0] as ComposeUnit);
    ordered.push(next);
    remaining.splice(remaining.indexOf(next), 1);
  }
  return ordered;
}

/** What a service waits for (the model's start order) in the same compose file becomes depends_on. */
export function sameFileDependencies(platform: Platform, service: Service, unit: ComposeUnit): Service[] {
  return platform.startOrder
    .waitsFor(service)
    .filter((dep) => unit.services.includes(dep))
    // A service behind a profile may not be running: nothing waits on it unless it shares the profile.
    .filter((dep) => dep.profile === undefined || dep.profile === service.profile);
}

/** Secret name -> the compose files that reference it. */
export function secretUsage(units: readonly ComposeUnit[]): Map<string, Set<string>> {
  const usage = new Map<string, Set<string>>();
  for (const unit of units) {
    for (const service of unit.services) {
      for (const secret of service.secrets) {
        const set = usage.get(secret.name) ?? new Set<string>();
        set.add(unit.dir);
        usage.set(secret.name, set);
      }
    }
  }
  return usage;
}

export function unitSecrets(unit: ComposeUnit): Secret[] {
  const byName = new Map<string, Secret>();
  for (const service of unit.services) for (const s of service.secrets) byName.set(s.name, s);
  return [...byName.values()].sort((a, b) => compareText(a.name, b.name));
}
