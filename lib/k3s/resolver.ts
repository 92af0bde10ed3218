import type { Node } from '../model/node.js';
import type { Service } from '../model/service.js';
import type { Resolver } from '../model/values.js';
import { serviceDns } from './names.js';

/**
 * How a pod reaches another service under k3s: always through its Kubernetes Service, by cluster
 * DNS name. Services on an external machine (gpu-over-lan) have a selector-less Service whose
 * EndpointSlice points at the machine, so consumers never see the LAN address.
 */
export class K3sResolver implements Resolver {
  readonly target = 'k3s' as const;

  constructor(
    readonly from: Service,
    readonly node: Node,
  ) {}

  address(to: Service, port: number): { host: string; port: number } {
    return { host: serviceDns(to), port };
  }

  instances(to: Service, port: number): { node: Node; host: string; port: number }[] {
    return to.nodes.map((node) => ({ node, host: serviceDns(to), port }));
  }

  url(to: Service, port: number, path = ''): string {
    return `http://${serviceDns(to)}:${port}${path}`;
  }
}
