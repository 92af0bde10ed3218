import { defineConfig } from 'vitest/config';
import { lessEagerTurbofan } from './lib/turbofan.js';
import { dclintParseOnce } from './test/support/dclint-parse-once.js';

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
    // with the TurboFan budget below (lib/turbofan.ts), in two pairs: three 58-64 s, two 66-68 s.
    maxWorkers: 3,
    // Test code runs a few times only: TurboFan later, as the CLI does (lib/turbofan.ts). And no
    // V8 helper threads (parallel GC, concurrent compilation): three workers already keep both
    // cores busy, so those threads only contend with them. In four alternating pairs of runs of the
    // ten in-process-heaviest files, --single-threaded took 3-6% less CPU and time every time; in
    // eight pairs of full runs, 2% less CPU at the median (the host's own load moved runs by 30%).
    execArgv: [...lessEagerTurbofan(), '--single-threaded'],
    // Files share their worker's module cache: cdk8s, cdk8s-plus and the model load once per worker
    // instead of once per file (most of a file's start-up). No test mocks a module or changes
    // process-wide state (cwd, environment), so a file cannot see another's leftovers.
    isolate: false,
  },
});
