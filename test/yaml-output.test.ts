import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { toYaml } from '../lib/output/yaml.js';
import { mulberry32 } from './support/prng.js';

// toYaml lays out plain data itself (for speed) and must give exactly the bytes of the `yaml`
// package's stringify with the file options: these are the layouts and scalars where the two could
// part ways.
const OPTIONS = { version: '1.1', lineWidth: 0, aliasDuplicateObjects: false, indent: 2, singleQuote: false } as const;

const cases: Record<string, unknown> = {
  'nested maps and sequences, empty collections, null, undefined keys left out': {
    k: 'a\nb',
    l: ['x\ny', { m: 'p\nq', z: [[]], y: [{}], w: [[{ a: 1, b: [1, { c: 'd\n\ne\n' }] }]] }],
    e: {},
    f: [],
    n: null,
    u: undefined,
    g: { u: undefined },
  },
  'sequences of sequences': [[1, 2], [], [[{ a: [] }]]],
  'keys the package quotes or writes plain': { 'a b': 1, yes: 2, '1': 3, 'x:': 4, '-': 6, n: 7, '': 8, on: 9 },
  'strings YAML 1.1 readers would take for something else': {
    y: [null, 'a #b', '#c', '*x', '&a', '- a', '?', '0x1f', '1_000', '2020-01-01', '~', '.5', '+1', 'Yes', 'On', 'no', 'null', '', ' x', 'x ', 'a: b', 'postgres:16'],
  },
  'strings written without the package (plain characters, no YAML 1.1 type) and those it still quotes': {
    plain: ['api', 'ghcr.io/you/api:1.0.0', '10.0.10.0/24', 'a=b', 'x+y', 'user@host', '_x', 'v1.2.3', 'A_B', '3001a', 'on-call'],
    typed: ['e5', 'E-9', '1e3', '0b101', '0o17', '017', '0x1F', '12:30', '1:20:30.5', '2024-01-01', '.inf', '.NaN', '<<', 'Y', 'n', 'OFF', 'Null', 'NULL'],
    edges: ['a:', 'a::', 'x:1', '-x', '.x', '/x', '@x', '=x', '+x', '9', '09', '1_0'],
    numbers: [0, 1, -1, 3001, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53, 0.5, 1e21, -1e-7, Number.NaN, Number.POSITIVE_INFINITY],
  },
  'block scalars: chomping, leading spaces, blank lines, trailing blank lines': {
    keep: 'a\n\nb\n\n',
    clip: 'x\n',
    strip: 'a\nb',
    lead: ' lead\n  two\n',
    spaces: 'a\n  \nb',
    trailingSpace: 'tr \nx',
    inSeq: [{ b: 'l1\nl2\n', c: 'x\n' }, 'm\n\n\n'],
    // The shapes toYaml writes itself (|- and |), and their neighbours it leaves to the package.
    written: { strip: 'a\nb', clip: 'a\n\n\nb\n', indented: 'x:\n  y: 1\n', deep: { er: { k: 'p\n q\n' } }, list: ['u\nv', 'w\n'] },
    left: { tab: 'a\tb\nc', marker: 'a\n...\nb', directive: 'a\n%x\n', trailing: 'a \nb ', blankEnd: 'a\n\n', lead: '\na', cr: 'a\r\nb' },
  },
  'what leaves the fast path: document markers, quoted multi-line, Dates, long and flow keys': {
    marker: 'x\n---\ny',
    quoted: 'a\n \t',
    date: new Date(0),
    ['k'.repeat(1100)]: 1,
    'a[': 5,
    nested: [undefined],
  },
  'numbers and booleans': { t: 1.5, v: -3, w: 1e21, z: -0, x: true, f: false, big: 12345678901234567890, nan: Number.NaN },
  'unicode and escapes': { s: 'é "q" \t', e: 'tab\there', c: '\u0007bell', long: 'a'.repeat(3000) },
};

describe('toYaml', () => {
  for (const [name, value] of Object.entries(cases)) {
    it(`gives the yaml package's bytes: ${name}`, () => {
      expect(toYaml(value)).toBe(stringify(value, OPTIONS));
    });
  }
  it("gives the yaml package's bytes for top-level scalars and empty collections", () => {
    for (const value of ['x', 'a\nb', 1, null, {}, [], true]) expect(toYaml(value)).toBe(stringify(value, OPTIONS));
  });
  it("gives the yaml package's bytes for 3,000 random documents of troublesome strings", () => {
    // A fixed-seed generator, so a failure reproduces.
    const random = mulberry32(13);
    const pick = <T,>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const pieces = ['a', 'b', ' ', '  ', '\n', '\n\n', ':', ': ', '#', ' #', '-', '- ', "'", '"', '|', '>', '[', ']', '{', ',', '1', '0.5', '.', '\t', 'y', 'no', 'é', '---', '...', '*', '&', '!', '%', '@', '`', '\\', '?', '~', '\x07', '\x85', '0x1f', '12:30', 'Yes', '2024-01-01', '=', '<', '(', ')'];
    const text = () => Array.from({ length: Math.floor(random() * 6) }, () => pick(pieces)).join('');
    const scalar = (): unknown => pick([text, text, text, () => Math.floor(random() * 2000) - 1000, () => random() * 10, () => random() < 0.5, () => null])();
    const value = (depth: number): unknown => {
      const roll = random();
      if (depth > 3 || roll < 0.4) return scalar();
      if (roll < 0.7) return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1));
      return Object.fromEntries(Array.from({ length: Math.floor(random() * 4) }, () => [text(), value(depth + 1)]));
    };
    for (let i = 0; i < 3000; i++) {
      const doc = random() < 0.5 ? { root: value(0) } : [value(0)];
      expect(toYaml(doc)).toBe(stringify(doc, OPTIONS));
    }
  });
  it('gives the same bytes on a second call (the scalar cache changes nothing)', () => {
    const value = cases['strings YAML 1.1 readers would take for something else'];
    expect(toYaml(value)).toBe(toYaml(value));
  });
});

describe('toYaml caches', () => {
  it('never answer -0 with a cached 0 (Map keys do not tell them apart)', () => {
    expect(toYaml({ z: 0 })).toBe(stringify({ z: 0 }, OPTIONS));
    expect(toYaml({ z: -0 })).toBe(stringify({ z: -0 }, OPTIONS));
  });
});
