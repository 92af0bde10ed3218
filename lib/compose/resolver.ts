import type { Node } from '../model/node.js';
import type { Service } from '../model/service.js';
import type { Resolver } from '../model/values.js';

/**
 * How a container on `node` reaches another service under Compose: by compose service name on
 * the same node (Docker's embedded DNS on the shared zone network), by the other node's bind
 * address and published port across nodes, by LAN address on an external machine.
 */
export class ComposeResolver implements Resolver {
  readonly target = 'compose' as const;

  constructor(
    readonly from: Service,
    readonly node: Node,
  ) {}

  private hostOn(to: Service, node: Node): string {
    if (!node.deployed) return node.address;
    // A host-network service has no name on any Docker network; it listens on its node's address.
    if (to.security.hostNetwork) return node.bindAddress;
    return node === this.node ? to.name : node.bindAddress;
  }

  address(to: Service, port: number): { host: string; port: number } {
    const node = to.nodes.includes(this.node) ? this.node : to.nodes[0];
    if (!node) throw new Error(`${to.name} runs on no node`);
    return { host: this.hostOn(to, node), port };
  }

  instances(to: Service, port: number): { node: Node; host: string; port: number }[] {
    return to.nodes.map((node) => ({ node, host: this.hostOn(to, node), port }));
  }

  url(to: Service, port: number, path = ''): string {
    const a = this.address(to, port);
    return `http://${a.host}:${a.port}${path}`;
  }
}
