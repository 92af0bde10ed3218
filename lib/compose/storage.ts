import type { Node } from '../model/node.js';
import type { Platform } from '../model/platform.js';
import { dataVolumeSource } from './service.js';
import type { ComposeUnit } from './units.js';
import { GENERATED_BY } from '../output/yaml.js';
import { compareText } from '../output/order.js';
import { shellQuote } from '../output/shell.js';

/** A bind-mounted data folder and the uid it must belong to. */
export interface BindFolder {
  readonly path: string;
  /** The uid the image's process runs as (Service.runAsUid), 0 for images that start as root. */
  readonly uid: number;
  /** Services mounting it. */
  readonly services: readonly string[];
}

/**
 * The bind-mode data folders of one node. Docker creates a missing bind source as root, which
 * images that run as another user (Grafana 472, Loki 10001, Prometheus and Alertmanager 65534)
 * cannot write: their owner comes from the same uid the k3s security context uses.
 */
export function bindFolders(platform: Platform, node: Node, units: readonly ComposeUnit[]): BindFolder[] {
  const folders = new Map<string, { uid: number; services: string[] }>();
  for (const unit of units.filter((u) => u.node === node)) {
    for (const service of unit.services) {
      for (const volume of service.volumesFor('compose')) {
        if ('hostPath' in volume) continue;
        const path = dataVolumeSource(platform, service, volume);
        const uid = service.runAsUid ?? 0;
        const existing = folders.get(path);
        if (existing && existing.uid !== uid) {
          throw new Error(`${path} is mounted by ${existing.services.join(', ')} (uid ${existing.uid}) and ${service.name} (uid ${uid})`);
        }
        if (existing) existing.services.push(service.name);
        else folders.set(path, { uid, services: [service.name] });
      }
    }
  }
  return [...folders].map(([path, f]) => ({ path, ...f })).sort((a, b) => compareText(a.path, b.path));
}

/** storage.sh: creates the node's bind folders owned by their image's user. Idempotent; contents untouched. */
export function renderStorageScript(platform: Platform, node: Node, units: readonly ComposeUnit[]): string {
  const lines = [
    '#!/bin/sh',
    `# Creates the data folders the stacks on node ${node.name} bind-mount (storage.mode: bind), each owned by`,
    '# the user its image runs as, so services that do not run as root can write on their first start.',
    `# ${GENERATED_BY.replace(/^r/, 'R')}`,
    '# Run as root before the first deploy and after adding a service. Safe to run again: only the',
    '# folders themselves are created or given back to their owner, never what is inside them.',
    'set -eu',
    '',
    'prepare() {',
    '  mkdir -p "$1"',
    '  chown "$2:$2" "$1"',
    '  echo "ready:   $1 (uid $2)"',
    '}',
    '',
  ];
  for (const folder of bindFolders(platform, node, units)) {
    lines.push(`prepare ${shellQuote(folder.path)} ${folder.uid}  # ${folder.services.join(', ')}`);
  }
  return lines.join('\n') + '\n';
}
