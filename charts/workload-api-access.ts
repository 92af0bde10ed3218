import type { Construct } from 'constructs';
import * as k8s from './k8s.js';
import { podLabels } from '../lib/k3s/names.js';
import type { Service } from '../lib/model/service.js';
import { podDiscoveryNamespaces } from './context.js';

/** Read access to pods where the service discovers them (Prometheus and per-node exporters). */
export function renderApiAccess(scope: Construct, service: Service): void {
  const namespaces = podDiscoveryNamespaces(service);
  if (namespaces.length === 0) return;
  new k8s.KubeServiceAccount(scope, 'account', { metadata: { name: service.name, namespace: service.zone.namespace, labels: podLabels(service) } });
  for (const namespace of namespaces) {
    const meta = { name: `${service.name}-discovery`, namespace, labels: podLabels(service) };
    new k8s.KubeRole(scope, `role-${namespace}`, {
      metadata: meta,
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }],
    });
    new k8s.KubeRoleBinding(scope, `binding-${namespace}`, {
      metadata: meta,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: meta.name },
      subjects: [{ kind: 'ServiceAccount', name: service.name, namespace: service.zone.namespace }],
    });
  }
}
