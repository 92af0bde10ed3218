import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    // The real-tool checks spawn caddy/promtool/amtool; two workers keep a 2-core machine responsive.
    maxWorkers: 2,
  },
});
