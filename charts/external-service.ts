import { Construct } from 'constructs';
import * as k8s from './k8s.js';
import { podLabels } from '../lib/k3s/names.js';
import type { Service } from '../lib/model/service.js';
import { containerPorts } from './service-workload.js';

/**
 * A service on a machine outside the cluster (gpu-over-lan): a selector-less Service whose
 * EndpointSlice points at the machine's LAN address, so in-cluster consumers use cluster DNS as
 * for any other service and NetworkPolicies allow exactly that address.
 */
export class ExternalService extends Construct {
  constructor(scope: Construct, service: Service) {
    super(scope, service.name);
    const namespace = service.zone.namespace;
    const ports = containerPorts(service.ports);
    // A one-shot on the machine (a model download) is never dialled: a Service needs a port.
    if (ports.length === 0) return;
    new k8s.KubeService(this, 'service', {
      metadata: { name: service.name, namespace, labels: podLabels(service) },
      spec: { type: 'ClusterIP', ports: ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol })) },
    });
    new k8s.KubeEndpointSlice(this, 'endpoints', {
      metadata: {
        name: `${service.name}-lan`,
        namespace,
        labels: { ...podLabels(service), 'kubernetes.io/service-name': service.name, 'endpointslice.kubernetes.io/managed-by': 'platform' },
      },
      addressType: 'IPv4',
      endpoints: service.nodes.map((n) => ({ addresses: [n.address] })),
      ports: ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol })),
    });
  }
}
