import type { Node } from '../model/node.js';
import { Platform } from '../model/platform.js';
import type { Service } from '../model/service.js';
import type { Resolver } from '../model/values.js';

/**
 * How a container on `node` reaches another service under Compose, as the platform's link plan
 * says (`LinkPlan.composeHost`): by compose service name on the same node, by the other node's
 * bind address and published port across nodes, by LAN address on an external machine.
 */
export class ComposeResolver implements Resolver {
  readonly target = 'compose' as const;

  constructor(
    readonly from: Service,
    readonly node: Node,
  ) {}

  address(to: Service, port: number): { host: string; port: number } {
    const plan = Platform.of(this.from).linkPlan;
    return { host: plan.composeHost(to, plan.composeInstance(to, this.node), this.node), port };
  }

  instances(to: Service, port: number): { node: Node; host: string; port: number }[] {
    const plan = Platform.of(this.from).linkPlan;
    return to.nodes.map((node) => ({ node, host: plan.composeHost(to, node, this.node), port }));
  }

  url(to: Service, port: number, path = ''): string {
    const a = this.address(to, port);
    return `http://${a.host}:${a.port}${path}`;
  }
}
