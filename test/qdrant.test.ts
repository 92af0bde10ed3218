import { describe, expect, it } from 'vitest';
import { referenceConfig } from '../lib/config/load.js';
import { NAME_LABEL } from '../lib/k3s/names.js';
import type { Service } from '../lib/model/service.js';
import { buildPlatform } from '../lib/synth.js';
import { podSpec, renderK3sTree } from './support/k3s.js';
import { connectionAllowed, type PodRef } from './support/network-policy.js';
import { loadFixture, renderTree } from './support/render.js';

/*
 * Qdrant, the catalog service added as one descriptor file (lib/services/qdrant.ts): off by
 * default, on with `services.qdrant.enabled: true` (test/fixtures/valid/qdrant.yaml), and then
 * Open WebUI's vector store. Open WebUI reads VECTOR_DB, QDRANT_URI and QDRANT_API_KEY with
 * os.environ.get in backend/open_webui/config.py, section "Vector Database"; Qdrant reads its key from
 * QDRANT__SERVICE__API_KEY (config `service.api_key`) and answers /readyz without it.
 */
const loaded = () => loadFixture('valid', 'qdrant');
const podRef = (service: Service): PodRef => ({ namespace: service.zone.namespace, labels: { [NAME_LABEL]: service.name }, ip: '10.42.0.10' });

describe('qdrant', () => {
  it('is off by default: the reference platform has no qdrant and Open WebUI keeps its own vector store', () => {
    const platform = buildPlatform(referenceConfig());
    expect(platform.service('qdrant')).toBeUndefined();
    expect(platform.service('open-webui')?.env.VECTOR_DB).toBeUndefined();
  });

  it('on: Compose runs it in the data stack with its API key from a secret, a state volume and no telemetry', () => {
    const tree = renderTree(loaded());
    const qdrant = tree.service('homelab/data', 'qdrant');
    expect(qdrant.image).toBe('qdrant/qdrant:v1.15.1');
    expect(qdrant.environment).toEqual({ QDRANT__SERVICE__API_KEY: '${QDRANT_API_KEY:?}', QDRANT__TELEMETRY_DISABLED: 'true' });
    expect(qdrant.volumes).toEqual([{ type: 'volume', source: 'qdrant-storage', target: '/qdrant/storage' }]);
    expect(qdrant.ports).toBeUndefined();
    const platform = buildPlatform(loaded());
    expect(platform.service('qdrant')?.volumes).toEqual([{ name: 'qdrant-storage', mountPath: '/qdrant/storage', sizeGb: 20, holds: 'state' }]);
    expect(tree.files.get('homelab/data/.env.example')).toContain('QDRANT_API_KEY=');
  });

  it('on: Open WebUI stores vectors in it, reaches it over the services zone, and starts after it', () => {
    const tree = renderTree(loaded());
    const webui = tree.service('homelab/chat', 'open-webui');
    expect(webui.environment).toMatchObject({ VECTOR_DB: 'qdrant', QDRANT_URI: 'http://qdrant:6333', QDRANT_API_KEY: '${QDRANT_API_KEY:?}' });
    expect(webui.networks).toContain('zone-services');
    expect(tree.files.get('homelab/chat/.env.example')).toContain('QDRANT_API_KEY=');
  });

  it('on k3s: a StatefulSet probed on /readyz, the key from its Secret, and only Open WebUI (and the monitors) let in', async () => {
    const tree = await renderK3sTree(loaded());
    const workload = tree.get('StatefulSet', 'services', 'qdrant');
    const container = podSpec(workload).containers[0];
    expect(container.readinessProbe.httpGet).toMatchObject({ path: '/readyz', port: 6333 });
    // The secret is read into its own variable first, then composed (`$(NAME)`), as every secret on k3s.
    expect(container.env).toContainEqual({ name: 'QDRANT_API_KEY', valueFrom: { secretKeyRef: { name: 'qdrant-api-key', key: 'QDRANT_API_KEY' } } });
    expect(container.env).toContainEqual({ name: 'QDRANT__SERVICE__API_KEY', value: '$(QDRANT_API_KEY)' });
    const policies = tree.all('NetworkPolicy');
    const qdrant = tree.platform.service('qdrant') as Service;
    const webui = tree.platform.service('open-webui') as Service;
    const grafana = tree.platform.service('grafana') as Service;
    expect(connectionAllowed(policies, podRef(webui), podRef(qdrant), 6333)).toBe(true);
    expect(connectionAllowed(policies, podRef(grafana), podRef(qdrant), 6333)).toBe(false);
  });
});
