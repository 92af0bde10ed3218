import type { Construct } from 'constructs';

/**
 * How often the construct tree under a root has changed in what the Platform derives from it
 * (a stack or service added, a connection made). The Platform keeps its derived collections
 * (services, the index by name, connections, consumers) until this moves on, so reading them is
 * cheap once the tree is built and never stale while it is being built. Kept apart from Platform
 * so Service and Stack can report changes without importing it.
 */
const versions = new WeakMap<Construct, number>();

/** Record that `construct`'s tree changed. */
export function treeChanged(construct: Construct): void {
  const root = construct.node.root;
  versions.set(root, (versions.get(root) ?? 0) + 1);
}

/** The change count of the tree rooted at `root`. */
export function treeVersion(root: Construct): number {
  return versions.get(root) ?? 0;
}
