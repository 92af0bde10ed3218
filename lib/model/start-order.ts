import type { Platform } from './platform.js';
import type { Service } from './service.js';
import type { Stack } from './stack.js';

/** First wave of the stacks on k3s; the platform pieces (namespaces, CNI, GPU, policies) sync before it. */
export const FIRST_STACK_WAVE = 0;

/**
 * The start order, derived once from the connections and read by every target: which services a
 * service waits for (Compose `depends_on` within a file, the order of Compose files across nodes),
 * the deploy order of the stacks (READMEs, `platform secrets` restart advice) and the ArgoCD sync
 * wave of each stack on k3s.
 *
 * Two relations, both from the connections: a service *waits for* what it has an ordering
 * connection to (it must be healthy before the caller starts); a stack *syncs after* every stack
 * it connects to at all, since ArgoCD applies a whole stack per wave and a pod that dials a
 * Service not yet created fails its first requests.
 */
export class StartOrder {
  private readonly waits = new Map<Service, readonly Service[]>();
  private stackCache?: Stack[] | Error;
  private wavesCache?: Map<Stack, number>;

  constructor(private readonly platform: Platform) {
    for (const service of platform.services) {
      const to = service.connections.filter((c) => c.ordering).map((c) => c.to);
      if (to.length > 0) this.waits.set(service, to);
    }
  }

  /** Services `service` waits for: healthy (or, for a one-shot, completed) before it starts. In declaration order. */
  waitsFor(service: Service): readonly Service[] {
    return this.waits.get(service) ?? [];
  }

  /**
   * Stacks in deploy order: a stack comes after every stack holding a service one of its
   * services waits for. Ties keep declaration order. Throws when stacks wait for each other in a
   * cycle (`validate` reports it as `connection-cycle`).
   */
  get stacks(): Stack[] {
    this.stackCache ??= this.orderStacks();
    if (this.stackCache instanceof Error) throw this.stackCache;
    return [...this.stackCache];
  }

  private orderStacks(): Stack[] | Error {
    const stacks = this.platform.stacks;
    const byName = new Map(stacks.map((s) => [s.name, s]));
    const deps = new Map<Stack, Set<Stack>>(stacks.map((s) => [s, new Set()]));
    for (const service of this.platform.services) {
      const from = byName.get(service.stackName);
      for (const dep of this.waitsFor(service)) {
        const to = byName.get(dep.stackName);
        if (from && to && from !== to) deps.get(from)?.add(to);
      }
    }
    const ordered: Stack[] = [];
    const remaining = [...stacks];
    while (remaining.length > 0) {
      const next = remaining.find((s) => [...(deps.get(s) ?? [])].every((d) => ordered.includes(d)));
      if (!next) return new Error(`stacks depend on each other in a cycle: ${remaining.map((s) => s.name).join(', ')}`);
      ordered.push(next);
      remaining.splice(remaining.indexOf(next), 1);
    }
    return ordered;
  }

  /**
   * ArgoCD sync wave of every stack: a stack syncs after every stack it connects to. Stacks that
   * reach each other (the edge routes to monitoring, monitoring probes the edge) form one group and
   * share a wave, so no stack ever syncs before one it connects to.
   */
  get waves(): ReadonlyMap<Stack, number> {
    this.wavesCache ??= this.computeWaves();
    return this.wavesCache;
  }

  private computeWaves(): Map<Stack, number> {
    const stacks = this.platform.stacks;
    const byName = new Map(stacks.map((s) => [s.name, s]));
    const deps = new Map<Stack, Set<Stack>>(stacks.map((s) => [s, new Set()]));
    for (const c of this.platform.connections) {
      const from = byName.get(c.from.stackName);
      const to = byName.get(c.to.stackName);
      if (from && to && from !== to) deps.get(from)?.add(to);
    }
    const groups = stronglyConnected(stacks, deps);
    const groupOf = new Map<Stack, number>();
    groups.forEach((group, i) => group.forEach((s) => groupOf.set(s, i)));
    // Tarjan emits groups dependencies-first, so one pass assigns waves.
    const groupWave: number[] = [];
    groups.forEach((group, i) => {
      let wave = FIRST_STACK_WAVE;
      for (const stack of group) {
        for (const dep of deps.get(stack) ?? []) {
          const j = groupOf.get(dep) as number;
          if (j !== i) wave = Math.max(wave, (groupWave[j] ?? FIRST_STACK_WAVE) + 1);
        }
      }
      groupWave[i] = wave;
    });
    return new Map(stacks.map((s) => [s, groupWave[groupOf.get(s) as number] ?? FIRST_STACK_WAVE]));
  }
}

/**
 * Tarjan's algorithm: the groups of nodes that reach each other (a node on no cycle is a group of
 * one), every dependency's group before the dependant's, each group in the order of `nodes`.
 */
export function stronglyConnected<T>(nodes: readonly T[], edges: ReadonlyMap<T, Iterable<T>>): T[][] {
  let counter = 0;
  const index = new Map<T, number>();
  const low = new Map<T, number>();
  const stack: T[] = [];
  const onStack = new Set<T>();
  const groups: T[][] = [];
  const visit = (v: T) => {
    index.set(v, counter);
    low.set(v, counter);
    counter += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
      }
    }
    if (low.get(v) === index.get(v)) {
      const group: T[] = [];
      let w: T;
      do {
        w = stack.pop() as T;
        onStack.delete(w);
        group.push(w);
      } while (w !== v);
      groups.push(group.sort((a, b) => nodes.indexOf(a) - nodes.indexOf(b)));
    }
  };
  for (const v of nodes) if (!index.has(v)) visit(v);
  return groups;
}
