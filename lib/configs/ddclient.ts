import type { Platform } from '../model/platform.js';
import type { Service } from '../model/service.js';
import type { Resolver } from '../model/values.js';
import { generatedHeader } from '../output/yaml.js';

/**
 * ddclient.conf: RFC 2136 updates (nsupdate with a TSIG key) to Technitium for ns1, ns2 and every
 * routed host. The key file is created in Technitium and placed in the config volume by hand.
 */
export function renderDdclientConf(platform: Platform, resolve: Resolver, dns: Service): string {
  const domain = platform.domain;
  const hosts = ['ns1', 'ns2', ...[...platform.routes].map((r) => r.host).sort()].map((h) => `${h}.${domain}`);
  const server = resolve.address(dns, 53);
  return [
    generatedHeader('ddclient.conf').trimEnd(),
    `daemon=${platform.config.dns.updateSeconds}`,
    'syslog=yes',
    'ssl=yes',
    'usev4=webv4',
    `webv4=${platform.config.dns.ipLookup}`,
    'protocol=nsupdate',
    `server=${server.host}`,
    `zone=${domain}`,
    'ttl=300',
    'login=/usr/bin/nsupdate',
    '# TSIG key from Technitium (Settings > TSIG), saved as tsig.key in the ddclient config volume.',
    'password=/config/tsig.key',
    hosts.join(','),
    '',
  ].join('\n');
}
