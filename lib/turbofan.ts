/**
 * V8 flags for processes that run most of their code a few times only: the CLI (one synth) and
 * the test workers. V8 optimizes a function with TurboFan once it has run 66 KB of bytecode
 * (--interrupt-budget, Node 20's V8 11.3); in such a process many of those compilations, on V8's
 * helper threads, are never paid back. At eight times the budget the hot loops (YAML, rendering)
 * are still optimized. Measured on the 2-core machine: the reference synth took 6-10% less CPU, and
 * 1000 apps 22% less CPU and 6-8% less time; the in-process test files 10-26% less CPU. Measured on
 * V8 11.x only (Node 20); other versions keep their defaults.
 */
export function lessEagerTurbofan(): string[] {
  return process.versions.v8.startsWith('11.') ? ['--interrupt-budget=540672'] : [];
}
