#!/usr/bin/env node
// Times `platform synth` on the reference platform from the command line, as a user runs it:
// a fresh Node process each time, compiled JavaScript, output written to a temporary folder.
// Usage: npm run bench [-- --runs 21 --target compose,k3s,all --flavor coolify]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '21' },
    target: { type: 'string', default: 'compose,k3s,all' },
    flavor: { type: 'string', default: 'coolify' },
  },
});
const runs = Number(values.runs);
const cli = resolve(import.meta.dirname, '..', '..', 'build', 'bin', 'platform.js');
const out = mkdtempSync(join(tmpdir(), 'platform-bench-'));
/** Median, min and max of `runs` fresh CLI runs for one target. */
function bench(target) {
  const args = [cli, 'synth', '--target', target, '--flavor', values.flavor, '--out', out, '--quiet'];
  execFileSync('node', args); // warm the file cache
  const times = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    execFileSync('node', args);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const fmt = (ms) => `${ms.toFixed(0)} ms`;
  console.log(`platform synth --target ${target} --flavor ${values.flavor} (reference platform), ${runs} runs`);
  console.log(`  median ${fmt(times[Math.floor(times.length / 2)])}, min ${fmt(times[0])}, max ${fmt(times[times.length - 1])}`);
}

try {
  for (const target of values.target.split(',')) bench(target);
} finally {
  rmSync(out, { recursive: true, force: true });
}
