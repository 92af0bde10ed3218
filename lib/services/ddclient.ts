import { Platform } from '../model/platform.js';
import { Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import { renderDdclientConf } from '../configs/ddclient.js';
import { catalogProps, type CatalogServiceProps } from './common.js';

export interface DdclientProps extends CatalogServiceProps {
  /** The DNS server whose records it updates (RFC 2136 over port 53). */
  readonly dns: Service;
}

/** ddclient: keeps ns1/ns2 and every routed host pointing at the current public IP. */
export class Ddclient extends Service {
  constructor(stack: Stack, props: DdclientProps) {
    const platform = Platform.of(stack);
    const lookup = new URL(platform.config.dns.ipLookup);
    super(
      stack,
      'ddclient',
      catalogProps('ddclient', props, {
        description: 'Dynamic DNS: updates the public IP of every routed host in Technitium',
        env: { TZ: 'Etc/UTC' },
        volumes: [{ name: 'ddclient-config', mountPath: '/config', sizeGb: 1 }],
        configFiles: [
          // linuxserver's init fixes the file's mode on start, so it is mounted writable.
          { name: 'ddclient.conf', mountPath: '/config/ddclient.conf', readOnly: false, content: (r) => renderDdclientConf(platform, r, props.dns) },
        ],
        healthCheck: { exec: ['pgrep', '-f', 'ddclient'] },
        resources: { cpus: 0.25, memoryGb: 0.25 },
        egress: [{ host: lookup.host, why: 'public IP lookup', configPath: ['dns', 'ipLookup'] }],
      }),
    );
    this.connect(props.dns, { port: 53, protocol: 'tcp', ordering: true });
  }
}
