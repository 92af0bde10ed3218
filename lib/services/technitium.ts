import { Platform } from '../model/platform.js';
import { Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import { renderZoneFile } from '../configs/zone-file.js';
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
        volumes: [{ name: 'technitium-config', mountPath: '/etc/dns', sizeGb: 1 }],
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
