import { Platform } from '../model/platform.js';
import { Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import { renderDdclientConf } from '../configs/ddclient.js';
import { defineService } from './descriptor.js';
import { catalogProps, type CatalogServiceProps } from './common.js';

export interface DdclientProps extends CatalogServiceProps {
  /** The DNS server whose records it updates (RFC 2136 over port 53). */
  readonly dns: Service;
}

/** Where the rendered ddclient.conf is mounted, read-only, outside the /config the image takes over. */
export const DDCLIENT_RENDERED_CONF = '/platform/ddclient.conf';
/** Where ddclient reads its config: svc-ddclient/run line 6 (`--file /config/ddclient.conf`). */
export const DDCLIENT_CONF = '/config/ddclient.conf';
/** ddclient's cache: svc-ddclient/run line 6 (`--cache /run/ddclient-cache/ddclient.cache`). */
export const DDCLIENT_CACHE = '/run/ddclient-cache/ddclient.cache';
/** The s6 service directory of the ddclient process (svc-inotify/run line 10 restarts it there). */
export const DDCLIENT_S6_SERVICE = '/run/service/svc-ddclient';

/**
 * The copy-in script: linuxserver's init (init-ddclient-config/run lines 14-27 at 4.0.0-ls228)
 * chowns /config to abc and chmods every file in it 600, so a rendered file bind-mounted there
 * would end up owned by uid 911 on the host and a later `platform synth` could not rewrite it.
 * The rendered file is mounted read-only elsewhere and copied in on every start by a script in
 * /custom-cont-init.d, which the base image runs after the image's own init and before the
 * services (docker-baseimage-alpine 3.22: init-custom-files, which init-services depends on).
 */
export function ddclientCopyScript(): string {
  return [
    '# Rendered by platform: copy the rendered ddclient.conf into /config on every start.',
    `install -o abc -g abc -m 600 ${DDCLIENT_RENDERED_CONF} ${DDCLIENT_CONF}`,
    '',
  ].join('\n');
}

/**
 * Healthy when the s6-supervised ddclient is up and its last update of every host succeeded.
 * ddclient 4.0.0 keeps one cache line per host (write_recap); each update attempt deletes the
 * host's `status-ipv4` (ddclient.in lines 829-833) and only a successful nsupdate sets it to
 * `good` again (nic_nsupdate_update, lines 5820-5829). So: the cache has a host line, and no host
 * line lacks `status-ipv4=good`. A missing TSIG key, a refused update or a stopped process make it
 * fail, unlike `pgrep -f ddclient`, which the inotify watcher and s6-supervise always satisfy.
 */
export function ddclientHealthCommand(): string[] {
  return [
    'sh',
    '-c',
    `s6-svstat -o up ${DDCLIENT_S6_SERVICE} | grep -qx true && ` +
      `grep -q 'status-ipv4=good' ${DDCLIENT_CACHE} && ` +
      `! grep -v '^#' ${DDCLIENT_CACHE} | grep -qv 'status-ipv4=good'`,
  ];
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
        // Holds the copied config and the TSIG key the owner places there.
        volumes: [{ name: 'ddclient-config', mountPath: '/config', sizeGb: 1, holds: 'state' }],
        configFiles: [
          { name: 'ddclient.conf', mountPath: DDCLIENT_RENDERED_CONF, content: (r) => renderDdclientConf(platform, r, props.dns) },
          { name: 'copy-config.sh', mountPath: '/custom-cont-init.d/50-platform-ddclient-conf', content: () => ddclientCopyScript(), executable: true },
        ],
        // The first update runs right after start; a minute covers the lookup and nsupdate.
        healthCheck: { exec: ddclientHealthCommand(), startPeriodSeconds: 60 },
        resources: { cpus: 0.25, memoryGb: 0.25 },
        egress: [{ host: lookup.host, why: 'public IP lookup', configPath: ['dns', 'ipLookup'] }],
        composeDocs: {
          order: 1,
          render: () => [
            '## ddclient',
            '',
            'Create a TSIG key in Technitium (Settings > TSIG, allow it to update the zone) and save it as `tsig.key`',
            'in the `ddclient-config` volume; ddclient then updates every routed host with the public IP.',
            'The rendered `ddclient.conf` is mounted read-only and copied into that volume at each start, so after',
            'a `platform synth` that changes it, restart ddclient. It is healthy once every host has been updated.',
            '',
          ],
        },
      }),
    );
    this.connect(props.dns, { port: 53, protocol: 'tcp', ordering: true });
  }
}

/** ddclient: only useful with a public IP, so on by default only with `exposure: public`. */
export const ddclient = defineService({
  name: 'ddclient',
  image: 'lscr.io/linuxserver/ddclient:4.0.0-ls228',
  stack: 'dns',
  zone: 'dmz',
  on: { with: 'technitium' },
  requires: ['technitium'],
  enabledByDefault: (config) => config.exposure === 'public',
  create: ({ stack, props, built }) => {
    const dns = built('technitium');
    return dns ? new Ddclient(stack, { ...props, dns }) : undefined;
  },
});
