import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PGVECTOR_IMAGE } from '../lib/images.js';
import { RESTIC_IMAGE } from '../lib/services/backup.js';
import { descriptorOf, pinnedImages, type ServiceName } from '../lib/services/registry.js';
import { runTool, sectionsByFile, toolAvailable } from './support/tools.js';

/*
 * The Renovate configuration: Renovate's own validator accepts it, and its custom managers,
 * applied here with the same regular expressions, find every pinned image in the real files and
 * nothing else. Renovate compiles matchStrings with RE2; these patterns use only syntax RE2 and
 * JavaScript read alike (no lookaround, no backreferences), so JavaScript's matches are Renovate's.
 */

const ROOT = join(import.meta.dirname, '..');
const scratch = mkdtempSync(join(tmpdir(), 'platform-renovate-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface CustomManager {
  customType: string;
  managerFilePatterns: string[];
  matchStrings: string[];
  matchStringsStrategy?: 'any' | 'recursive' | 'combination';
  datasourceTemplate: string;
}
interface PackageRule {
  matchPackageNames?: string[];
  matchUpdateTypes?: string[];
  groupName?: string;
  enabled?: boolean;
  versioning?: string;
}
const config = JSON.parse(readFileSync(join(ROOT, 'renovate.json'), 'utf8')) as { customManagers: CustomManager[]; packageRules: PackageRule[] };

/** `/regex/` as Renovate writes a file pattern. */
function filePattern(pattern: string): RegExp {
  const match = /^\/(.*)\/([a-z]*)$/.exec(pattern);
  if (!match) throw new Error(`not a /regex/ file pattern: ${pattern}`);
  return new RegExp(match[1] as string, match[2]);
}

interface Found {
  depName: string;
  currentValue: string;
  /** 1-based line of the match's version. */
  line: number;
}

/** What `manager` finds in `content`, the way Renovate's regex manager applies its strategy. */
function extract(manager: CustomManager, content: string): Found[] {
  const at = (index: number) => content.slice(0, index).split('\n').length;
  const matchAll = (pattern: string, text: string, offset: number) =>
    [...text.matchAll(new RegExp(pattern, 'g'))].map((m) => ({ m, offset: offset + (m.index ?? 0) }));
  let found: { m: RegExpMatchArray; offset: number }[];
  if (manager.matchStringsStrategy === 'recursive') {
    let regions = [{ text: content, offset: 0 }];
    const [last, ...outer] = [...manager.matchStrings].reverse();
    for (const pattern of outer.reverse()) {
      regions = regions.flatMap((r) => matchAll(pattern, r.text, r.offset).map(({ m, offset }) => ({ text: m[0], offset })));
    }
    found = regions.flatMap((r) => matchAll(last as string, r.text, r.offset));
  } else {
    found = manager.matchStrings.flatMap((pattern) => matchAll(pattern, content, 0));
  }
  return found.map(({ m, offset }) => {
    const groups = m.groups as { depName: string; currentValue: string };
    return { depName: groups.depName, currentValue: groups.currentValue, line: at(offset + m[0].lastIndexOf(groups.currentValue)) };
  });
}

function managerFor(file: string): CustomManager[] {
  return config.customManagers.filter((m) => m.managerFilePatterns.some((p) => filePattern(p).test(file)));
}

const sourceFiles = ['lib/images.ts', ...readdirSync(join(ROOT, 'lib/services')).filter((f) => f.endsWith('.ts')).map((f) => `lib/services/${f}`)];
const PINNED_IMAGES = pinnedImages();
const pinned = new Set([...Object.values(PINNED_IMAGES), PGVECTOR_IMAGE, RESTIC_IMAGE]);

describe('Renovate finds every pinned image', () => {
  const found = sourceFiles.flatMap((file) => {
    const content = readFileSync(join(ROOT, file), 'utf8');
    return managerFor(file).flatMap((m) => extract(m, content).map((f) => ({ ...f, file, text: content.split('\n')[f.line - 1] as string })));
  });

  it('every image the platform pins is found, with its tag', () => {
    const images = new Set(found.map((f) => `${f.depName}:${f.currentValue}`));
    for (const image of pinned) expect(images.has(image), image).toBe(true);
  });

  it('every match is a pinned image on its own table line: no other line is touched', () => {
    for (const f of found) {
      expect(pinned.has(`${f.depName}:${f.currentValue}`), `${f.file}:${f.line}: ${f.text}`).toBe(true);
      expect(f.text, `${f.file}:${f.line}`).toMatch(/^\s+(?:'[a-z0-9-]+'|[a-z0-9]+): '[^']+',$|^export const (?:PGVECTOR|RESTIC)_IMAGE = '[^']+';$/);
    }
  });

  it('in lib/images.ts: exactly the PGVECTOR_IMAGE line, not the facts keyed by the same images', () => {
    const lines = readFileSync(join(ROOT, 'lib/images.ts'), 'utf8').split('\n');
    const expected = lines.flatMap((l, i) => (l.startsWith('export const PGVECTOR_IMAGE') ? [i + 1] : []));
    expect(expected).toHaveLength(1);
    expect(found.filter((f) => f.file === 'lib/images.ts').map((f) => f.line)).toEqual(expected);
  });

  it('in lib/services/: one line per descriptor, the pin of that service', () => {
    for (const [service, image] of Object.entries(PINNED_IMAGES)) {
      const lines = found.filter((f) => f.file === `lib/services/${service}.ts`);
      expect(lines.map((f) => `${f.depName}:${f.currentValue}`), service).toEqual([image]);
    }
  });

  it("a service descriptor's `image: 'repo:tag',` line is found, other image lines are not", () => {
    const [manager] = managerFor('lib/services/caddy.ts');
    const text = [
      'export const caddy = {',
      "  image: 'caddy:2.10.0-alpine',",
      "  description: 'image: not:this',",
      '  image: props.image ?? PINNED_IMAGES[name],',
      "    image: 'ghcr.io/berriai/litellm:v1.79.1-stable',",
      '};',
    ].join('\n');
    expect(extract(manager as CustomManager, text)).toEqual([
      { depName: 'caddy', currentValue: '2.10.0-alpine', line: 2 },
      { depName: 'ghcr.io/berriai/litellm', currentValue: 'v1.79.1-stable', line: 5 },
    ]);
  });

  it('the images: overrides of platform.yaml, quoted or not, and nothing outside that key', () => {
    expect(managerFor('platform.yaml')).toHaveLength(1);
    expect(managerFor('homelab/platform.yml')).toHaveLength(1);
    expect(managerFor('test/fixtures/valid/optimal.yaml')).toHaveLength(0);
    const [manager] = managerFor('platform.yaml');
    const yaml = [
      'domain: example.com',
      'images:',
      '  caddy: caddy:2.10.1-alpine',
      '  # a comment',
      '  litellm: "ghcr.io/berriai/litellm:v1.80.0-stable"',
      "  open-webui: 'ghcr.io/open-webui/open-webui:v0.6.30'",
      '',
      'apps:',
      '  api:',
      '    image: ghcr.io/you/hono-api:1.0.0',
      'services:',
      '  ollama: { node: rtx }',
    ].join('\n');
    expect(extract(manager as CustomManager, yaml)).toEqual([
      { depName: 'caddy', currentValue: '2.10.1-alpine', line: 3 },
      { depName: 'ghcr.io/berriai/litellm', currentValue: 'v1.80.0-stable', line: 5 },
      { depName: 'ghcr.io/open-webui/open-webui', currentValue: 'v0.6.30', line: 6 },
    ]);
    // At the top of the file too.
    expect(extract(manager as CustomManager, 'images:\n  ollama: ollama/ollama:0.12.0\n')).toEqual([{ depName: 'ollama/ollama', currentValue: '0.12.0', line: 2 }]);
  });
});

describe('Renovate groups and versions', () => {
  const repoOf = (image: string) => image.slice(0, image.lastIndexOf(':'));
  const rulesFor = (image: string) => config.packageRules.filter((r) => r.matchPackageNames?.some((p) => p === repoOf(image) || (p.endsWith('/**') && image.startsWith(p.slice(0, -2)))));

  it('groups follow the stacks: monitoring, AI (llm, chat), data; the images the platform builds are left alone', () => {
    const groupOfStack: Record<string, string> = { monitoring: 'monitoring', llm: 'AI', chat: 'AI', data: 'data' };
    for (const [service, image] of Object.entries(PINNED_IMAGES) as [ServiceName, string][]) {
      const rules = rulesFor(image);
      if (image.startsWith('localhost/')) {
        expect(rules.some((r) => r.enabled === false && r.matchUpdateTypes === undefined), image).toBe(true);
        continue;
      }
      const groups = rules.map((r) => r.groupName).filter(Boolean);
      const expected = groupOfStack[descriptorOf(service)!.stack];
      expect(groups, `${service} (${image})`).toEqual(expected ? [expected] : []);
    }
    expect(rulesFor(PGVECTOR_IMAGE).map((r) => r.groupName).filter(Boolean)).toEqual(['data']);
    expect(rulesFor(RESTIC_IMAGE).map((r) => r.groupName).filter(Boolean)).toEqual(['data']);
  });

  it("every pinned tag parses under its package's versioning (Renovate cannot update a tag it cannot read)", () => {
    for (const image of pinned) {
      const versioning = rulesFor(image).find((r) => r.versioning)?.versioning;
      if (!versioning?.startsWith('regex:')) continue;
      expect(image.slice(image.lastIndexOf(':') + 1), image).toMatch(new RegExp(versioning.slice('regex:'.length)));
    }
  });

  it('never proposes a new Postgres major (the data directory would not open)', () => {
    const rule = config.packageRules.find((r) => r.matchUpdateTypes?.includes('major') && r.enabled === false);
    expect(rule?.matchPackageNames).toEqual(['postgres', 'pgvector/pgvector']);
  });

  it.runIf(toolAvailable('renovate-config-validator'))("passes Renovate's own validator as a repository config (strict: no deprecated option), which refuses a broken one", async () => {
    // The same config with the option Renovate 41 renamed (fileMatch): strict mode refuses it.
    const broken = join(scratch, 'renovate.json');
    const old = { ...config, customManagers: config.customManagers.map(({ managerFilePatterns, ...m }) => ({ ...m, fileMatch: managerFilePatterns.map((p) => p.slice(1, -1)) })) };
    writeFileSync(broken, JSON.stringify(old));
    /*
     * One validator for both files (loading Renovate is most of its cost). It validates the files
     * in order, logging `Validating <file> as repo config` and then that file's findings (a needed
     * migration is a WARN, refused under --strict; errors and warnings are logged and also fail),
     * and exits 1 when any file failed (renovate 44.121.2, lib/config-validator.ts: validate() and
     * the loop over [config-files...]). So the repository's config passes when its section holds
     * no WARN or ERROR line.
     */
    const files = ['renovate.json', broken];
    const run = await runTool('renovate-config-validator', ['--strict', '--no-global', ...files], { cwd: ROOT });
    const sections = sectionsByFile(run.output, files, (file) => ` INFO: Validating ${file} as repo config`);
    expect(sections.get('renovate.json'), run.output).not.toMatch(/^ (WARN|ERROR):/m);
    expect(sections.get(broken), run.output).toContain('WARN: Config migration necessary');
    expect(run.status, run.output).toBe(1);
  }, 360_000);
});
