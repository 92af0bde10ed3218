// Preloaded into each timed process (`node --import`): records its peak resident set size in
// kilobytes to the file named by PLATFORM_BENCH_RSS, so the bench reports memory beside time.
import { writeFileSync } from 'node:fs';

const file = process.env.PLATFORM_BENCH_RSS;
if (file) process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS)));
