import { spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../lib/config/load.js';
import { buildReferencePlatform } from '../stacks/reference.js';
import { inlineConfig, renderTree } from './support/render.js';

/*
 * Bind-mode storage: Docker creates a missing bind source as root, so an image that runs as
 * another user cannot write its data folder on first start. storage.sh, run here for real over a
 * temp storage root, must leave every folder the compose files bind owned by its image's user.
 */

const root = mkdtempSync(join(tmpdir(), 'platform-storage-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const CONFIG = { storage: { mode: 'bind' as const, root } };
const tree = renderTree(inlineConfig(CONFIG), 'plain');
const platform = buildReferencePlatform(validateConfig(CONFIG, { file: 'inline.yaml' }));
const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn('skipping storage.sh ownership run: chown needs root (CI runs as root)');

/** Every bind source with create_host_path in the compose files of `node`, with the service mounting it. */
function bindSources(node: string): Map<string, string> {
  const sources = new Map<string, string>();
  // The backup job runs as root: the folders Docker creates for it (repository, metrics) are root's, as it needs.
  for (const dir of tree.composeDirs().filter((d) => d.startsWith(`${node}/`) && !d.endsWith('/backup'))) {
    for (const [name, service] of Object.entries(tree.compose(dir).services)) {
      for (const volume of service.volumes ?? []) {
        if ((volume.bind as { create_host_path?: boolean } | undefined)?.create_host_path) sources.set(volume.source as string, name);
      }
    }
  }
  return sources;
}

describe('storage.sh (bind mode)', () => {
  for (const node of ['homelab', 'rtx']) {
    it(`${node}: covers every bind-mounted data folder of the node`, () => {
      const script = tree.files.get(`${node}/storage.sh`) as string;
      expect(script).toBeDefined();
      // Each path is one shell word: bare, or single-quoted with \' for a quote (lib/output/shell.ts).
      const prepared = [...script.matchAll(/^prepare ((?:[^\s'\\]|\\'|'[^']*')+) (\d+)/gm)].map((m) => (m[1] as string).replace(/'([^']*)'|\\'/g, (_, inner?: string) => inner ?? "'"));
      expect(prepared.sort()).toEqual([...bindSources(node).keys()].sort());
    });
  }

  it('is not rendered in volume mode', () => {
    expect([...renderTree(inlineConfig({}), 'plain').files.keys()].filter((p) => p.endsWith('storage.sh'))).toEqual([]);
  });

  it.skipIf(!isRoot)("gives each folder to its image's user when run, twice, leaving contents alone", () => {
    const script = join(root, 'storage.sh');
    writeFileSync(script, tree.files.get('homelab/storage.sh') as string);
    const first = spawnSync('sh', [script], { encoding: 'utf8' });
    expect(first.status, first.stderr).toBe(0);
    // Data a service wrote keeps its owner when the script runs again.
    const grafanaData = join(root, 'monitoring', 'grafana-data');
    writeFileSync(join(grafanaData, 'grafana.db'), '');
    chownSync(join(grafanaData, 'grafana.db'), 472, 0);
    const second = spawnSync('sh', [script], { encoding: 'utf8' });
    expect(second.status, second.stderr).toBe(0);
    expect(statSync(join(grafanaData, 'grafana.db')).gid).toBe(0);

    for (const [path, serviceName] of bindSources('homelab')) {
      const service = platform.service(serviceName);
      expect(statSync(path).isDirectory(), path).toBe(true);
      expect(statSync(path).uid, `${path} (${serviceName})`).toBe(service?.runAsUid ?? 0);
    }
    // The images that do not start as root (their uids live in each service's security.nonRootUid).
    expect(statSync(grafanaData).uid).toBe(472);
    expect(statSync(join(root, 'monitoring', 'loki-data')).uid).toBe(10001);
    expect(statSync(join(root, 'monitoring', 'prometheus-data')).uid).toBe(65534);
    expect(statSync(join(root, 'monitoring', 'alertmanager-data')).uid).toBe(65534);
  });

  it('is valid sh', () => {
    for (const node of ['homelab', 'rtx']) {
      expect(spawnSync('sh', ['-n', '-c', tree.files.get(`${node}/storage.sh`) as string]).status).toBe(0);
    }
  });
});
