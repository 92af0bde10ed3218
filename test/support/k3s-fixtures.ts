import { deepFreeze, loadFixture } from './render.js';
import { renderK3sTree, type K3sTree } from './k3s.js';

const trees = new Map<string, Promise<K3sTree>>();

/**
 * The k3s tree of the reference platform (`reference`) or of a valid fixture, rendered once per
 * vitest worker and shared by the files that read it (isolate: false): rendering and parsing a tree
 * costs about a third of a second. Its objects are frozen, so a test that changed one for the
 * next would fail at once; a test that needs a changed object copies it.
 */
export function fixtureK3sTree(name: string): Promise<K3sTree> {
  let tree = trees.get(name);
  if (!tree) {
    tree = renderK3sTree(name === 'reference' ? undefined : loadFixture('valid', name)).then((rendered) => {
      deepFreeze(rendered.objects);
      return rendered;
    });
    trees.set(name, tree);
  }
  return tree;
}
