import { Platform } from '../model/platform.js';
import { Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import { renderZoneFile } from '../configs/zone-file.js';
import { defineService } from './descriptor.js';
import { catalogProps, type CatalogServiceProps } from './common.js';

export const TECHNITIUM_ADMIN_PORT = 5380;

/** Technitium DNS: authoritative for the domain (NS + glue at the registrar), recursive for the LAN only. */
export class Technitium extends Service {
  constructor(stack: Stack, props: CatalogServiceProps) {
    const platform = Platform.of(stack);
    const domain = platform.domain;
    super(
      stack,
      'technitium',
      catalogProps('technitium', props, {
        description: `Authoritative DNS for ${domain}, recursive for private networks only`,
        env: {
          DNS_SERVER_DOMAIN: `ns1.${domain}`,
          DNS_SERVER_ADMIN_PASSWORD: platform.secret('DNS_ADMIN_PASSWORD', {
            generate: 'password',
            readOnce: true,
            description: 'Technitium admin password',
          }),
          DNS_SERVER_PREFER_IPV6: 'false',
          // An authoritative server on the internet must not be an open resolver.
          DNS_SERVER_RECURSION: 'AllowOnlyForPrivateNetworks',
          DNS_SERVER_LOG_USING_LOCAL_TIME: 'true',
        },
        ports: [
          { port: 53, protocol: 'udp', name: 'dns', entry: true, http: false },
          { port: 53, protocol: 'tcp', name: 'dns-tcp', entry: true, http: false },
          { port: TECHNITIUM_ADMIN_PORT, name: 'admin', authentication: 'password' },
        ],
        volumes: [{ name: 'technitium-config', mountPath: '/etc/dns', sizeGb: 1, holds: 'state' }],
        configFiles: [
          {
            name: `${domain}.zone`,
            mountPath: `/etc/dns/import/${domain}.zone`,
            content: () => renderZoneFile(platform),
          },
        ],
        // The image is Debian-based without curl: a TCP check on the admin port.
        healthCheck: { tcp: { port: TECHNITIUM_ADMIN_PORT }, via: 'bash' },
        resources: { cpus: 1, memoryGb: 1 },
        composeDocs: {
          order: 2,
          render: (p) => [
            '## DNS zone',
            '',
            `Import \`/etc/dns/import/${p.domain}.zone\` in Technitium (Zones > Add Zone > Primary, then Import), then ${dnsDelegation(p)}`,
            '',
          ],
        },
        egress: [
          {
            host: 'root and TLD name servers',
            why: 'recursive resolution for LAN clients',
            ports: [
              { port: 53, protocol: 'udp' },
              { port: 53, protocol: 'tcp' },
            ],
          },
        ],
      }),
    );
  }
}

/** Technitium: authoritative DNS on the server, its admin UI behind basic auth. */
export const technitium = defineService({
  name: 'technitium',
  image: 'technitium/dns-server:14.3.0',
  stack: 'dns',
  zone: 'dmz',
  on: 'server',
  routes: [{ host: 'dns', port: TECHNITIUM_ADMIN_PORT, auth: 'basic', rank: 8 }],
  create: ({ stack, props }) => new Technitium(stack, props),
});

/** How clients come to ask Technitium, by exposure: only a public zone is delegated by the registrar. */
function dnsDelegation(platform: Platform): string {
  const dns = platform.service('technitium');
  const address = dns?.nodes[0]?.bindAddress ?? 'its address';
  switch (platform.config.exposure) {
    case 'public':
      return `point the registrar's NS records for ${platform.domain} at ns1/ns2.${platform.domain} with glue A records to your public IP.`;
    case 'tailnet':
      return (
        `make it the tailnet's DNS for ${platform.domain} (Tailscale admin console > DNS > Add nameserver > Custom: ` +
        `${address}, "Restrict to domain" ${platform.domain}). Do not delegate ${platform.domain} at the registrar and set no glue ` +
        `records: the zone answers with Tailscale addresses, which mean nothing outside the tailnet.`
      );
    case 'lan':
      return (
        `point the LAN's DNS at it: the router's DHCP DNS server (or a conditional forwarder for ${platform.domain}) set to ${address}. ` +
        `Do not delegate ${platform.domain} at the registrar: the zone answers with LAN addresses.`
      );
  }
}
