import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stronglyConnected } from '../lib/model/start-order.js';
import { compareText } from '../lib/output/order.js';

/*
 * The layout shows the architecture: charts/ (the k3s target, cdk8s) builds on lib/ (the model,
 * config, Compose target, checks), never the other way round. The one exception is the composition
 * point lib/synth.ts, which loads the k3s renderer lazily so cdk8s is read only when k3s is asked for.
 */
const ROOT = join(import.meta.dirname, '..');

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every module a file imports, statically or with `import()`. */
function imports(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [...text.matchAll(/(?:from\s+|import\s*\(\s*)'([^']+)'/g)].map((m) => m[1] as string);
}

describe('layout', () => {
  it('nothing in lib/ imports charts/, except the lazy k3s renderer in lib/synth.ts', () => {
    const offenders = sources('lib').flatMap((file) =>
      imports(file)
        .filter((spec) => spec.startsWith('.') && relative(ROOT, join(ROOT, file, '..', spec)).startsWith('charts/'))
        .map((spec) => `${file}: ${spec}`),
    );
    expect(offenders).toEqual(['lib/synth.ts: ../charts/synth.js']);
    expect(readFileSync(join(ROOT, 'lib/synth.ts'), 'utf8')).toMatch(/await import\('\.\.\/charts\/synth\.js'\)/);
  });

  it('charts/ holds the k3s renderer: its entry (cdk8s.yaml) and synthesis', () => {
    const charts = sources('charts');
    expect(charts).toContain('charts/main.ts');
    expect(charts).toContain('charts/synth.ts');
    expect(sources('lib/k3s').some((file) => imports(file).some((spec) => spec.startsWith('cdk8s')))).toBe(false);
  });
});

describe('order of rendered names', () => {
  it('never follows the machine locale: no localeCompare in the sources (lib/output/order.ts compareText instead)', () => {
    const offenders = ['lib', 'charts', 'stacks', 'bin'].flatMap(sources).filter((file) => /\.localeCompare\(/.test(readFileSync(join(ROOT, file), 'utf8')));
    expect(offenders).toEqual([]);
  });
  it('compareText orders by code unit, as sort() does: the same on a Swedish, Turkish or C machine', () => {
    const names = ['zeta', 'ärende', 'PG_USER', 'PGADMIN', 'Ivy', 'ivy', 'ıvy', 'a-b', 'ab', 'a_b'];
    expect([...names].sort(compareText)).toEqual([...names].sort());
  });
});

/** The modules of the sources a file imports for values (`import type` is erased and runs nothing). */
function valueImports(file: string, known: ReadonlySet<string>): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [...text.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?from\s+'(\.[^']+)'/gms)]
    .map((m) => normalize(join(dirname(file), m[1] as string)).replace(/\.js$/, '.ts'))
    .filter((path) => known.has(path));
}

describe('module graph', () => {
  it('has no import cycle: a module entered first would otherwise run one it needs half-loaded', () => {
    // The cycle this caught: services/prometheus -> configs/prometheus -> configs/backup-alerts ->
    // services/backup -> services/postgres -> services/names -> services/registry -> services/prometheus,
    // which ran the registry with Prometheus's descriptor not yet defined whenever a file entered the
    // graph from charts/ (vitest's k3s-deploy.test.ts, a script importing charts/service-workload.ts).
    const files = ['lib', 'charts', 'stacks'].flatMap(sources);
    const known = new Set(files);
    const graph = new Map(files.map((file) => [file, valueImports(file, known)]));
    // A group of more than one module is a cycle (stronglyConnected is the start order's own).
    const cycles = (g: ReadonlyMap<string, readonly string[]>) => stronglyConnected([...g.keys()], g).filter((group) => group.length > 1);
    expect(cycles(graph)).toEqual([]);
    expect(cycles(new Map([['a.ts', ['b.ts']], ['b.ts', ['a.ts']], ['c.ts', []]]))).toEqual([['a.ts', 'b.ts']]);
  });
});
