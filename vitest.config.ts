import { spawnSync } from 'node:child_process';
import { defineConfig } from 'vitest/config';
import { dclintParseOnce } from './test/support/dclint-parse-once.js';

/**
 * V8 (Node 20's, 11.3) optimizes a function with TurboFan once it has run 66 KB of bytecode
 * (--interrupt-budget). A test runs most code a few times only, so most of those compilations, on
 * V8's helper threads, were never paid back: TurboFan was about a tenth of the suite's CPU. Eight
 * times the budget still optimizes the hot loops (YAML, rendering). In six alternating pairs of runs
 * of the in-process test files: 43-51 CPU-s against 49-61 with the default (each pair 0.74-0.90).
 * A Node whose V8 does not know the flag (it exits at start-up on an unknown one) runs the workers
 * with its defaults.
 */
function lessEagerTurbofan(): string[] {
  const flag = '--interrupt-budget=540672';
  return spawnSync(process.execPath, [flag, '-e', ''], { stdio: 'ignore' }).status === 0 ? [flag] : [];
}

export default defineConfig({
  plugins: [dclintParseOnce()],
  test: {
    // Transformed by vite rather than loaded by Node, so that the plugin above reaches its imports.
    server: { deps: { inline: [/[\\/]node_modules[\\/]dclint[\\/]/] } },
    include: ['test/**/*.test.ts'],
    // The CLI under test, bundled into build/ from the sources before any file runs.
    globalSetup: ['test/support/build.ts'],
    testTimeout: 60_000,
    // Three workers on a 2-core machine: many files wait on programs they run (restic's lock wait,
    // a Postgres or Prometheus starting, Caddy, promtool), and a third worker fills that time. It
    // also costs CPU (three processes contending for two cores): in three alternating pairs of
    // full runs, three workers took 77-80 s and 136-142 CPU-s, two took 76-84 s and 124-138 CPU-s;
    // with the TurboFan budget below, in two pairs: three 58-64 s, two 66-68 s.
    maxWorkers: 3,
    execArgv: lessEagerTurbofan(),
    // Files share their worker's module cache: cdk8s, cdk8s-plus and the model load once per worker
    // instead of once per file (most of a file's start-up). No test mocks a module or changes
    // process-wide state (cwd, environment), so a file cannot see another's leftovers.
    isolate: false,
  },
});
