import type { Platform } from '../model/platform.js';
import { generatedHeader } from '../output/yaml.js';
import { compareText } from '../output/order.js';

/** The address every routed host resolves to: the node running the edge. */
export function edgeAddress(platform: Platform): string {
  const caddy = platform.service('caddy');
  const node = caddy?.nodes[0] ?? platform.deployedNodes[0];
  return node?.bindAddress ?? '127.0.0.1';
}

/**
 * A BIND-format zone file for Technitium's "Import Zone": SOA, NS ns1/ns2 with glue, and an A
 * record for every routed host. ddclient replaces these with the public IP under `public`.
 */
export function renderZoneFile(platform: Platform): string {
  const domain = platform.domain;
  const dns = platform.service('technitium');
  const nsAddress = dns?.nodes[0]?.bindAddress ?? edgeAddress(platform);
  const edge = edgeAddress(platform);
  const hostmaster = platform.config.acmeEmail.replace('@', '.');
  const records: [string, string, string][] = [
    ['@', 'NS', `ns1.${domain}.`],
    ['@', 'NS', `ns2.${domain}.`],
    ['@', 'A', edge],
    ['ns1', 'A', nsAddress],
    ['ns2', 'A', nsAddress],
    ...[...platform.routes].sort((a, b) => compareText(a.host, b.host)).map((r): [string, string, string] => [r.host, 'A', edge]),
  ];
  const width = Math.max(...records.map(([name]) => name.length));
  return [
    generatedHeader(`Zone ${domain}`, ';').trimEnd(),
    `$ORIGIN ${domain}.`,
    '$TTL 300',
    `@ IN SOA ns1.${domain}. ${hostmaster}. ( 1 3600 600 1209600 300 )`,
    ...records.map(([name, type, value]) => `${name.padEnd(width)} IN ${type.padEnd(2)} ${value}`),
    '',
  ].join('\n');
}
