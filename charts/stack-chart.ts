import type { Construct } from 'constructs';
import type { Stack } from '../lib/model/stack.js';
import type { K3sContext } from './context.js';
import { ExternalService } from './external-service.js';
import { OutputChart } from './output-chart.js';
import { ServiceWorkload } from './service-workload.js';

/** One stack: one ArgoCD Application, its services in their zones' namespaces. */
export class StackChart extends OutputChart {
  constructor(scope: Construct, readonly stack: Stack, context: K3sContext) {
    super(scope, `stack-${stack.name}`, { folder: `apps/${stack.name}` });
    const services = stack.services;
    const users = new Map<string, number>();
    for (const service of services) {
      for (const v of service.volumesFor('k3s')) {
        if ('hostPath' in v) continue;
        const key = `${service.zone.namespace}/${v.name}`;
        users.set(key, (users.get(key) ?? 0) + 1);
      }
    }
    for (const service of services) {
      if (service.external) {
        new ExternalService(this, service);
        continue;
      }
      const shared = new Set(
        [...users].filter(([key, count]) => count > 1 && key.startsWith(`${service.zone.namespace}/`)).map(([key]) => key.split('/')[1] as string),
      );
      new ServiceWorkload(this, service, { context, sharedVolumes: shared });
    }
  }
}
