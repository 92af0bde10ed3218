import { describe, expect, it } from 'vitest';
import { referenceConfig } from '../lib/config/load.js';
import { GENERATED_BY } from '../lib/output/yaml.js';
import { render, renderK3s } from '../lib/synth.js';

/*
 * Rendered files say they are generated and must not be edited, without naming a config file
 * that may not exist (the embedded reference platform has none).
 */
describe('generated-file headers', () => {
  it('never claim a platform.yaml, and every config and script says it is rendered', async () => {
    const compose = render(referenceConfig(), 'plain').files;
    const k3s = (await renderK3s(referenceConfig())).output.files;
    for (const file of [...compose, ...k3s]) expect(file.content, file.path).not.toMatch(/rendered by `platform synth` from platform\.yaml/i);
    const byPath = new Map<string, string>([...compose.map((f) => [`compose/${f.path}`, f.content] as const), ...k3s.map((f) => [`k3s/${f.path}`, f.content] as const)]);
    for (const path of ['compose/homelab/edge/caddy/Caddyfile', 'compose/homelab/monitoring/prometheus/prometheus.yml', 'compose/homelab/networks.sh', 'k3s/secrets/create-secrets.sh']) {
      expect(byPath.get(path)?.toLowerCase(), path).toContain(GENERATED_BY.toLowerCase());
    }
  });
});
