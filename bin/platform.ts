#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';
import { main } from '../lib/cli.js';

// V8 optimizes a function with TurboFan once it has run 66 KB of bytecode (--interrupt-budget). One
// synth runs most of the code a few times only, so many of those compilations, on V8's helper
// threads, are never paid back. At eight times the budget the hot loops (YAML, rendering) are still
// optimized: on the 2-core machine, the reference synth took 6-10% less CPU, and 1000 apps 22% less
// CPU and 6-8% less time. Measured on Node 20's V8 (11.x); other versions run with their defaults.
if (process.versions.v8.startsWith('11.')) setFlagsFromString('--interrupt-budget=540672');

process.exitCode = await main(process.argv.slice(2));
