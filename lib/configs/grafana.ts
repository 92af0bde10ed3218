import type { Service } from '../model/service.js';
import type { Resolver } from '../model/values.js';
import { generatedHeader, toYaml } from '../output/yaml.js';

/** Grafana datasource provisioning: Prometheus (default) and Loki. */
export function renderGrafanaDatasources(resolve: Resolver, prometheus: Service, loki?: Service): string {
  const datasources: Record<string, unknown>[] = [
    { name: 'Prometheus', type: 'prometheus', uid: 'prometheus', access: 'proxy', url: resolve.url(prometheus, 9090), isDefault: true, editable: false },
  ];
  if (loki) datasources.push({ name: 'Loki', type: 'loki', uid: 'loki', access: 'proxy', url: resolve.url(loki, 3100), editable: false });
  return generatedHeader('Grafana datasources') + toYaml({ apiVersion: 1, datasources });
}

/**
 * Grafana dashboard provisioning: the platform's dashboards from files, in their own folder. The
 * files are the source of truth: UI edits cannot be saved over them and a dashboard removed from
 * the files is removed from Grafana.
 */
export function renderGrafanaDashboardProvider(path: string): string {
  return (
    generatedHeader('Grafana dashboard provider') +
    toYaml({
      apiVersion: 1,
      providers: [{ name: 'platform', folder: 'Homelab', type: 'file', disableDeletion: false, allowUiUpdates: false, updateIntervalSeconds: 60, options: { path } }],
    })
  );
}
