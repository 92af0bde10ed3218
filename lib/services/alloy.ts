import type { Caddy } from './caddy.js';
import { LOKI_GATEWAY_USER } from '../configs/caddyfile.js';
import { Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import { renderAlloyConfig } from '../configs/alloy.js';
import { defineService } from './descriptor.js';
import { catalogProps, type CatalogServiceProps } from './common.js';
import type { Secret } from '../model/secret.js';

export interface AlloyProps extends CatalogServiceProps {
  readonly loki: Service;
  /**
   * Where instances on nodes without Loki push instead (Compose: Caddy's authenticated gateway),
   * so Loki is never published. @default every instance dials Loki itself
   */
  readonly gateway?: LokiGateway;
}

/** An authenticated push endpoint in front of Loki. */
export interface LokiGateway {
  readonly via: Service;
  readonly port: number;
  readonly user: string;
  readonly password: Secret;
}

/** Grafana Alloy on every node: ships container logs to Loki (a Loki without a shipper is empty). */
export class Alloy extends Service {
  constructor(stack: Stack, props: AlloyProps) {
    super(
      stack,
      'alloy',
      catalogProps('alloy', props, {
        description: 'Ships container logs of its node to Loki (Grafana Alloy)',
        perNode: true,
        // --disable-reporting: Alloy sends anonymous usage statistics to Grafana Labs unless told not to.
        command: ['run', '--server.http.listen-addr=0.0.0.0:12345', '--storage.path=/var/lib/alloy/data', '--disable-reporting', '/etc/alloy/config.alloy'],
        ports: [{ port: 12345, name: 'http' }],
        volumes: [{ name: 'alloy-data', mountPath: '/var/lib/alloy/data', sizeGb: 1, holds: 'cache' }],
        onTarget: {
          compose: { volumes: [{ hostPath: '/var/run/docker.sock', mountPath: '/var/run/docker.sock', readOnly: true }] },
          // Under k3s the kubelet writes every container's log below /var/log/pods.
          k3s: { volumes: [{ hostPath: '/var/log/pods', mountPath: '/var/log/pods', readOnly: true }] },
        },
        configFiles: [{ name: 'config.alloy', mountPath: '/etc/alloy/config.alloy', content: (r) => renderAlloyConfig(r, props.loki, props.gateway) }],
        ...(props.gateway ? { env: { LOKI_PUSH_PASSWORD: props.gateway.password } } : {}),
        healthCheck: { tcp: { port: 12345 }, via: 'bash' },
        resources: { cpus: 0.5, memoryGb: 0.5 },
        metrics: { port: 12345 },
      }),
    );
    const beside = props.nodes.filter((n) => props.loki.nodes.includes(n));
    const elsewhere = props.nodes.filter((n) => !props.loki.nodes.includes(n));
    if (props.gateway && elsewhere.length > 0) {
      if (beside.length > 0) this.connect(props.loki, { ordering: true, fromNodes: beside });
      this.connect(props.gateway.via, { port: props.gateway.port, fromNodes: elsewhere });
    } else {
      this.connect(props.loki, { ordering: true });
    }
  }
}

/** Alloy on every node; where Loki is not local, through Caddy's gateway when there is one. */
export const alloy = defineService({
  name: 'alloy',
  image: 'grafana/alloy:v1.13.0',
  stack: 'monitoring',
  zone: 'monitoring',
  on: 'every-node',
  requires: ['loki'],
  uses: ['caddy'],
  edge: true,
  create: ({ stack, props, built }) => {
    const loki = built('loki');
    if (!loki) return undefined;
    const caddy = built<Caddy>('caddy');
    const gateway = caddy?.lokiGateway;
    return new Alloy(stack, { ...props, loki, gateway: caddy && gateway ? { via: caddy, port: gateway.port, user: LOKI_GATEWAY_USER, password: gateway.password } : undefined });
  },
});
