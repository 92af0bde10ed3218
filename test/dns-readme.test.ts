import { describe, expect, it } from 'vitest';
import { renderTree, loadFixture } from './support/render.js';

/* Only a public zone is delegated at the registrar; a tailnet or LAN zone is served to its own network. */
describe('DNS instructions in the dns stack README', () => {
  const readme = (tree: ReturnType<typeof renderTree>) => tree.files.get('homelab/dns/README.md') ?? '';

  it('public: registrar NS records with glue to the public IP', () => {
    expect(readme(renderTree())).toContain('glue A records to your public IP');
  });

  it('tailnet: split DNS in the Tailscale console, no delegation and no glue', () => {
    const text = readme(renderTree(loadFixture('valid', 'tailnet')));
    expect(text).toContain('Tailscale admin console > DNS > Add nameserver > Custom: 100.');
    expect(text).toContain('Do not delegate');
    expect(text).not.toContain('to your public IP');
  });
});
