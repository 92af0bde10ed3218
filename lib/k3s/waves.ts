import type { Platform } from '../model/platform.js';
import type { Stack } from '../model/stack.js';

/** First wave of the stacks; the platform pieces (namespaces, CNI, GPU, policies) sync before it. */
export const FIRST_STACK_WAVE = 0;

/**
 * ArgoCD sync wave of every stack: a stack syncs after every stack it connects to. Stacks that
 * reach each other (the edge routes to monitoring, monitoring probes the edge) form one group and
 * share a wave, so no stack ever syncs before one it connects to.
 */
export function stackWaves(platform: Platform): Map<Stack, number> {
  const stacks = platform.stacks;
  const byName = new Map(stacks.map((s) => [s.name, s]));
  const deps = new Map<Stack, Set<Stack>>(stacks.map((s) => [s, new Set()]));
  for (const c of platform.connections) {
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

/** Tarjan's algorithm; groups come out with every dependency's group before the dependant's. */
function stronglyConnected(nodes: readonly Stack[], edges: Map<Stack, Set<Stack>>): Stack[][] {
  let counter = 0;
  const index = new Map<Stack, number>();
  const low = new Map<Stack, number>();
  const stack: Stack[] = [];
  const onStack = new Set<Stack>();
  const groups: Stack[][] = [];
  const visit = (v: Stack) => {
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
      const group: Stack[] = [];
      let w: Stack;
      do {
        w = stack.pop() as Stack;
        onStack.delete(w);
        group.push(w);
      } while (w !== v);
      groups.push(group.sort((a, b) => nodes.indexOf(a) - nodes.indexOf(b)));
    }
  };
  for (const v of nodes) if (!index.has(v)) visit(v);
  return groups;
}
