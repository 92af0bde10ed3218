#!/usr/bin/env node
// Times the platform CLI as a user runs it: a fresh Node process per run, compiled JavaScript,
// output to a temporary folder. Every case runs in the same rounds as `node -e 0` (the start-up
// floor every Node CLI pays), interleaved, so each figure is a ratio measured side by side on the
// same machine at the same moment. Peak RSS comes from each process itself (peak-rss.mjs).
// Usage: npm run bench [-- --runs 5 --apps 10,100,1000 --cap 60 --no-diff]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { generateAppsConfig } from './generate-apps.mjs';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    apps: { type: 'string', default: '10,100,1000' },
    // A case whose first run takes longer than this many seconds is reported as such and not repeated.
    cap: { type: 'string', default: '120' },
    'no-diff': { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);
const capMs = Number(values.cap) * 1000;
const root = resolve(import.meta.dirname, '..', '..');
const cli = join(root, 'build', 'bin', 'platform.js');
const hook = join(import.meta.dirname, 'peak-rss.mjs');
const scratch = mkdtempSync(join(tmpdir(), 'platform-bench-'));
const rssFile = join(scratch, 'rss');

/**
 * A case, and the target it is held to (issue 13): a ratio to the floor or to the reference run,
 * seconds, and peak RSS in MB.
 * @typedef {{ name: string, args: string[], cwd?: string, ok?: number[], target?: { xFloor?: number, xRef?: number, seconds?: number, rssMb?: number } }} Case
 */
/** @type {Case[]} */
const cases = [
  { name: 'node -e 0 (floor)', args: ['-e', '0'] },
  { name: 'synth --target compose, reference', args: [cli, 'synth', '--target', 'compose', '--out', join(scratch, 'c'), '--quiet'], target: { xFloor: 3 } },
  { name: 'synth (all targets), reference', args: [cli, 'synth', '--out', join(scratch, 'a'), '--quiet'], target: { xFloor: 5, rssMb: 150 } },
];
for (const count of values.apps.split(',').filter(Boolean).map(Number)) {
  const config = join(scratch, `apps-${count}.yaml`);
  writeFileSync(config, generateAppsConfig(count));
  cases.push({
    name: `synth (all targets), reference + ${count} apps`,
    args: [cli, 'synth', '--config', config, '--out', join(scratch, `a${count}`), '--quiet'],
    target: count === 1000 ? { xRef: 6, rssMb: 400 } : undefined,
  });
}
// Exit 0 = no change, as kubectl diff. HEAD's code must be the build's (a clean tree, built): with
// other code the base is written to a scratch folder and built there (or its build reused from
// .git/platform-diff/builds), which is a different case.
if (!values['no-diff']) cases.push({ name: 'diff --base HEAD (no change)', args: [cli, 'diff', '--base', 'HEAD'], cwd: root, ok: [0], target: { seconds: 2 } });

/** One timed run: wall milliseconds and peak RSS in MB. */
function run(c) {
  rmSync(rssFile, { force: true });
  const start = performance.now();
  try {
    execFileSync(process.execPath, ['--import', hook, ...c.args], {
      cwd: c.cwd ?? scratch,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, PLATFORM_BENCH_RSS: rssFile },
      timeout: capMs * 2,
    });
  } catch (err) {
    if (!(c.ok ?? [0]).includes(err.status)) throw new Error(`${c.name} failed (exit ${err.status}): ${err.stderr}`);
  }
  const ms = performance.now() - start;
  return { ms, rssMb: Number(readFileSync(rssFile, 'utf8')) / 1024 };
}

const results = new Map(cases.map((c) => [c.name, { ms: [], rssMb: 0, capped: false }]));
try {
  // Warm the file cache, and find the cases too slow to repeat.
  for (const c of cases) {
    const first = run(c);
    const r = results.get(c.name);
    r.rssMb = first.rssMb;
    if (first.ms > capMs) {
      r.capped = true;
      r.ms.push(first.ms);
    }
  }
  for (let i = 0; i < runs; i++) {
    for (const c of cases) {
      const r = results.get(c.name);
      if (r.capped) continue;
      const { ms, rssMb } = run(c);
      r.ms.push(ms);
      r.rssMb = Math.max(r.rssMb, rssMb);
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const floor = median(results.get(cases[0].name).ms);
const reference = median(results.get('synth (all targets), reference').ms);
const [load1] = loadavg();
console.log(`platform bench: ${runs} interleaved runs per case, median wall time; floor = node -e 0 = ${floor.toFixed(0)} ms; ${cpus().length} cores, load average ${load1.toFixed(1)} at the end`);
console.log(`${'case'.padEnd(50)} ${'median'.padStart(9)} ${'x floor'.padStart(8)} ${'x ref'.padStart(7)} ${'peak RSS'.padStart(9)}  target`);
for (const c of cases) {
  const r = results.get(c.name);
  const ms = median(r.ms);
  const note = r.capped ? ' (one run: over the cap)' : '';
  const t = c.target ?? {};
  const held = [
    t.xFloor !== undefined && [`<= ${t.xFloor}x floor`, ms / floor <= t.xFloor],
    t.xRef !== undefined && [`<= ${t.xRef}x ref`, ms / reference <= t.xRef],
    t.seconds !== undefined && [`<= ${t.seconds} s`, ms / 1000 <= t.seconds],
    t.rssMb !== undefined && [`<= ${t.rssMb} MB`, r.rssMb <= t.rssMb],
  ].filter(Boolean);
  const verdict = held.map(([what, ok]) => `${what} ${ok ? 'met' : 'MISSED'}`).join(', ');
  console.log(
    `${c.name.padEnd(50)} ${`${(ms / 1000).toFixed(2)} s`.padStart(9)} ${(ms / floor).toFixed(1).padStart(8)} ${(ms / reference).toFixed(1).padStart(7)} ${`${r.rssMb.toFixed(0)} MB`.padStart(9)}  ${verdict}${note}`,
  );
}
