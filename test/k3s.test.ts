import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../lib/config/errors.js';
import { stackWaves } from '../lib/k3s/waves.js';
import { NAME_LABEL } from '../lib/k3s/names.js';
import type { Service } from '../lib/model/service.js';
import { Secret } from '../lib/model/secret.js';
import { renderSecretsScript } from '../lib/k3s/secrets.js';
import { k3sSecretManifests } from '../lib/secrets/handover.js';
import { buildPlatform, renderK3s } from '../lib/synth.js';
import { fixtureNames, inlineConfig } from './support/render.js';
import { toolAvailable } from './support/tools.js';
import { podSpec, renderK3sTree, WORKLOAD_KINDS, type AnyObject, type K3sTree } from './support/k3s.js';
import { fixtureK3sTree } from './support/k3s-fixtures.js';
import { connectionAllowed, type PodRef } from './support/network-policy.js';
import { readYaml } from './support/yaml.js';

const reference = await fixtureK3sTree('reference');

function workloadOf(tree: K3sTree, service: Service): AnyObject {
  for (const kind of WORKLOAD_KINDS) {
    const found = tree.find(kind, service.zone.namespace, service.name);
    if (found) return found;
  }
  throw new Error(`no workload for ${service.name}`);
}

function podRef(service: Service): PodRef {
  return { namespace: service.zone.namespace, labels: { [NAME_LABEL]: service.name }, ip: '10.42.0.10' };
}

describe('k3s: GPU pods', () => {
  it.each(['reference', ...fixtureNames('valid')])('%s: every GPU pod has the limit, runtime class, node and toleration', async (name) => {
    const tree = await fixtureK3sTree(name);
    const gpuServices = tree.platform.services.filter((s) => s.gpu && s.nodes.every((n) => n.deployed));
    for (const service of gpuServices) {
      const spec = podSpec(workloadOf(tree, service));
      const container = spec.containers[0];
      // NVIDIA nodes: nvidia.com/gpu and the nvidia RuntimeClass; AMD nodes: amd.com/gpu and no runtime (ROCm needs only the devices).
      const amd = service.homeNode.gpuVendor === 'amd';
      const resource = amd ? 'amd.com/gpu' : 'nvidia.com/gpu';
      expect(container.resources.limits[resource], service.name).toBeGreaterThanOrEqual(1);
      expect(container.resources.limits[amd ? 'nvidia.com/gpu' : 'amd.com/gpu'], service.name).toBeUndefined();
      expect(spec.runtimeClassName, service.name).toBe(amd ? undefined : 'nvidia');
      expect(spec.nodeSelector, service.name).toEqual({ 'kubernetes.io/hostname': service.homeNode.name, [`${resource}.present`]: 'true' });
      expect(spec.tolerations, service.name).toContainEqual({ key: resource, operator: 'Equal', value: 'present', effect: 'NoSchedule' });
    }
    // No pod without a GPU request asks for one.
    for (const service of tree.platform.services.filter((s) => !s.gpu && s.nodes.every((n) => n.deployed))) {
      const limits = podSpec(workloadOf(tree, service)).containers[0].resources.limits;
      expect([limits['nvidia.com/gpu'], limits['amd.com/gpu']], service.name).toEqual([undefined, undefined]);
    }
  });

  it('never emits the RuntimeClass k3s ships', () => {
    expect(reference.all('RuntimeClass')).toEqual([]);
  });

  it('time-slices the reference 4090 into 4 (ollama, comfyui, mochi, cogvideox on one GPU), failing requests over one', () => {
    const app = reference.get('Application', 'argocd', 'nvidia-device-plugin');
    const values = app.spec.source.helm.valuesObject;
    expect(app.spec.source).toMatchObject({ chart: 'nvidia-device-plugin', targetRevision: '0.17.1', repoURL: 'https://nvidia.github.io/k8s-device-plugin' });
    expect(values.runtimeClassName).toBe('nvidia');
    expect(values.config.default).toBe('time-slicing-4');
    expect(values.config.map['time-slicing-4']).toBe(
      'version: v1\nsharing:\n  timeSlicing:\n    failRequestsGreaterThanOne: true\n    resources:\n      - name: nvidia.com/gpu\n        replicas: 4\n',
    );
    const mochi = podSpec(reference.get('StatefulSet', 'gpu', 'mochi')).containers[0];
    expect(mochi.resources.limits['nvidia.com/gpu']).toBe(1);
  });

  it('does not share a GPU that only one service uses', async () => {
    const tree = await renderK3sTree(
      inlineConfig({ services: { comfyui: { enabled: false }, 'comfyui-models': { enabled: false }, mochi: { enabled: false }, cogvideox: { enabled: false } } }),
    );
    const values = tree.get('Application', 'argocd', 'nvidia-device-plugin').spec.source.helm.valuesObject;
    expect(values.config).toEqual({ default: 'no-sharing', map: { 'no-sharing': 'version: v1\n' } });
    expect(tree.notes).toEqual([]);
  });

  it('optimal: a two-GPU service on a time-sliced node gets one shared GPU, and the README says so', async () => {
    const tree = await fixtureK3sTree('optimal');
    expect(podSpec(tree.get('StatefulSet', 'gpu', 'mochi')).containers[0].resources.limits['nvidia.com/gpu']).toBe(1);
    expect(tree.notes).toContain('mochi asks for 2 GPUs on gpu-a; time-sliced GPUs are granted one per pod, so on k3s it gets one shared GPU.');
    // gpu-b runs cogvideox alone: its own config, labelled in the README.
    expect(tree.files.get('README.md')).toContain('kubectl label node gpu-b nvidia.com/device-plugin.config=no-sharing');
  });

  it('gpu-over-lan: Ollama and ComfyUI are Services with an EndpointSlice to the workstation, and only that egress is open', async () => {
    const tree = await fixtureK3sTree('gpu-over-lan');
    const workstation = tree.platform.nodes.get('workstation');
    for (const name of ['ollama', 'comfyui']) {
      const service = tree.get('Service', 'gpu', name);
      expect(service.spec.selector).toBeUndefined();
      const slice = tree.get('EndpointSlice', 'gpu', `${name}-lan`);
      expect(slice.metadata.labels['kubernetes.io/service-name']).toBe(name);
      expect(slice.endpoints).toEqual([{ addresses: [workstation?.address] }]);
      expect(tree.find('StatefulSet', 'gpu', name)).toBeUndefined();
    }
    const policies = tree.all('NetworkPolicy');
    const litellm = tree.platform.service('litellm') as Service;
    const lan = { namespace: 'gpu', labels: {}, ip: workstation?.address };
    expect(connectionAllowed(policies, podRef(litellm), lan, 11434, 'TCP', false)).toBe(true);
    expect(connectionAllowed(policies, podRef(litellm), lan, 22, 'TCP', false)).toBe(false);
    const grafana = tree.platform.service('grafana') as Service;
    expect(connectionAllowed(policies, podRef(grafana), lan, 11434, 'TCP', false)).toBe(false);
    // No GPU node in the cluster: no device plugin, no time-slicing.
    expect(tree.find('Application', 'argocd', 'nvidia-device-plugin')).toBeUndefined();
  });
});

describe('k3s: zones', () => {
  it('one namespace per zone, labelled with zone and VLAN, with quota and limit range', () => {
    for (const zone of reference.platform.zones.values()) {
      const ns = reference.get('Namespace', undefined, zone.name);
      expect(ns.metadata.labels).toMatchObject({ 'homelab.platform/zone': zone.name, 'homelab.platform/vlan': String(zone.vlan) });
      expect(reference.get('ResourceQuota', zone.name, 'zone-quota').spec.hard).toHaveProperty('limits.memory');
      expect(reference.get('LimitRange', zone.name, 'zone-limits').spec.limits[0].type).toBe('Container');
    }
  });

  it("uses the default figures where the zone's pods fit, and raises them where they would not", () => {
    // Monitoring: default figures, but its pods' CPU limits (both nodes' exporters counted) add up to 8.3
    // cores, plus the largest rolling-update surge pod.
    expect(reference.get('ResourceQuota', 'monitoring', 'zone-quota').spec.hard).toEqual({
      'requests.cpu': '4',
      'limits.cpu': '8500m',
      'requests.memory': '8Gi',
      'limits.memory': '16Gi',
    });
    expect(reference.get('ResourceQuota', 'edge', 'zone-quota').spec.hard).toEqual({
      'requests.cpu': '8',
      'limits.cpu': '24',
      'requests.memory': '48Gi',
      'limits.memory': '64Gi',
    });
    // mochi alone has a 64 GB limit: gpu-workloads' 32Gi would reject it.
    const gpu = reference.get('ResourceQuota', 'gpu', 'zone-quota').spec.hard;
    expect(gpu['limits.memory']).not.toBe('32Gi');
    expect(reference.get('LimitRange', 'gpu', 'zone-limits').spec.limits[0].max.memory).toBe('64Gi');
    expect(reference.get('LimitRange', 'edge', 'zone-limits').spec.limits[0]).toMatchObject({
      defaultRequest: { cpu: '100m', memory: '256Mi' },
      default: { cpu: '1', memory: '2Gi' },
      min: { cpu: '10m', memory: '32Mi' },
      max: { cpu: '16', memory: '32Gi' },
    });
  });

  it('every zone namespace denies all traffic by default and allows DNS to CoreDNS', () => {
    for (const zone of reference.platform.zones.values()) {
      expect(reference.get('NetworkPolicy', zone.name, 'default-deny').spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
      const dns = reference.get('NetworkPolicy', zone.name, 'allow-dns').spec;
      expect(dns.egress[0].to[0]).toEqual({
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
        podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
      });
      expect(dns.egress[0].ports).toEqual([
        { port: 53, protocol: 'UDP' },
        { port: 53, protocol: 'TCP' },
      ]);
    }
  });

  const policies = reference.all('NetworkPolicy');
  const connections = reference.platform.connections.filter((c) => c.from.nodes.every((n) => n.deployed) && c.to.nodes.every((n) => n.deployed));
  it.each(connections.map((c) => [`${c.from.name} -> ${c.to.name}:${c.port}/${c.protocol}`, c] as const))('allows the declared %s', (_, c) => {
    if (c.to.security.hostNetwork) {
      // A host-network pod has its node's address and no policy of its own: egress to each node.
      for (const node of c.to.nodes) {
        const onHost = { ...podRef(c.to), ip: node.address };
        expect(connectionAllowed(policies, podRef(c.from), onHost, c.port, c.protocol.toUpperCase(), false), node.name).toBe(true);
      }
      return;
    }
    expect(connectionAllowed(policies, podRef(c.from), podRef(c.to), c.port, c.protocol.toUpperCase())).toBe(true);
  });

  it('the evaluator can fail: without the provider\'s ingress rule, or the consumer\'s egress rule, the flow is denied', () => {
    const openWebui = reference.platform.service('open-webui') as Service;
    const litellm = reference.platform.service('litellm') as Service;
    expect(connectionAllowed(policies, podRef(openWebui), podRef(litellm), 4000)).toBe(true);
    const without = (name: string) => policies.filter((p: AnyObject) => p.metadata.name !== name);
    expect(connectionAllowed(without('litellm-ingress'), podRef(openWebui), podRef(litellm), 4000)).toBe(false);
    expect(connectionAllowed(without('open-webui-egress'), podRef(openWebui), podRef(litellm), 4000)).toBe(false);
  });

  const service = (name: string) => reference.platform.service(name) as Service;
  it.each([
    ['open-webui', 'ollama', 11434, 'the chat UI talks to LiteLLM, never to Ollama'],
    ['caddy', 'ollama', 11434, 'inference is not reachable from the edge'],
    ['caddy', 'postgres', 5432, 'the edge never reaches the database'],
    ['searxng', 'postgres', 5432, 'search has no database'],
    ['comfyui', 'minio', 9000, 'GPU zone has no way into data'],
    ['ollama', 'litellm', 4000, 'connections are one-way'],
    ['grafana', 'loki', 9999, 'only the dialled port'],
    ['litellm', 'ollama', 22, 'only the dialled port'],
  ])('denies %s -> %s:%i (%s)', (from, to, port) => {
    expect(connectionAllowed(policies, podRef(service(from)), podRef(service(to)), port)).toBe(false);
  });

  it('opens the internet (outside private ranges) only to services that declare egress, on their ports', () => {
    const internet = { namespace: 'x', labels: {}, ip: '1.1.1.1' };
    for (const s of reference.platform.services) {
      const web = s.egress.some((e) => e.ports === undefined);
      expect(connectionAllowed(policies, podRef(s), internet, 443, 'TCP', false), s.name).toBe(web);
    }
    // Technitium resolves recursively: DNS out, and nothing else.
    const technitium = podRef(reference.platform.service('technitium') as Service);
    expect(connectionAllowed(policies, technitium, internet, 53, 'UDP', false)).toBe(true);
    expect(connectionAllowed(policies, technitium, internet, 53, 'TCP', false)).toBe(true);
    expect(connectionAllowed(policies, technitium, internet, 443, 'TCP', false)).toBe(false);
    // Not even egress services reach the LAN through that rule.
    expect(connectionAllowed(policies, podRef(service('searxng')), { namespace: 'x', labels: {}, ip: '192.168.1.50' }, 443, 'TCP', false)).toBe(false);
  });

  it('lets the world reach the entry ports and nothing else', () => {
    const world = { namespace: 'outside', labels: {}, ip: '203.0.113.7' };
    // A client outside the cluster has no egress policy: only the destination's ingress decides.
    const ingressOnly = (to: string, port: number, protocol = 'TCP') => {
      const target = podRef(service(to));
      return connectionAllowed(policies.filter((p: AnyObject) => p.metadata.namespace === target.namespace), world, target, port, protocol);
    };
    expect(ingressOnly('caddy', 443)).toBe(true);
    expect(ingressOnly('caddy', 443, 'UDP')).toBe(true);
    expect(ingressOnly('caddy', 80)).toBe(true);
    expect(ingressOnly('technitium', 53, 'UDP')).toBe(true);
    expect(ingressOnly('technitium', 5380)).toBe(false);
    expect(ingressOnly('grafana', 3000)).toBe(false);
    expect(ingressOnly('ollama', 11434)).toBe(false);
  });
});

describe('k3s: workloads', () => {
  const kindOf = (name: string) => WORKLOAD_KINDS.find((kind) => reference.all(kind).some((o: AnyObject) => o.metadata.name === name));

  it('StatefulSets for the services that own data, Deployments for the edge and scaled ones, Jobs and DaemonSets', () => {
    for (const name of ['postgres', 'valkey', 'minio', 'prometheus', 'loki', 'grafana', 'ollama']) expect(kindOf(name), name).toBe('StatefulSet');
    for (const name of ['caddy', 'technitium', 'litellm', 'open-webui', 'searxng']) expect(kindOf(name), name).toBe('Deployment');
    for (const name of ['ollama-init', 'comfyui-models']) expect(kindOf(name), name).toBe('Job');
    for (const name of ['node-exporter', 'cadvisor', 'alloy', 'gpu-exporter']) expect(kindOf(name), name).toBe('DaemonSet');
  });

  it('every long-running container has probes, requests and limits; every container drops capabilities or is privileged on purpose', () => {
    for (const kind of WORKLOAD_KINDS) {
      for (const workload of reference.all(kind)) {
        const container = podSpec(workload).containers[0];
        const name = workload.metadata.name;
        expect(container.resources.requests, name).toHaveProperty('cpu');
        expect(container.resources.limits, name).toHaveProperty('memory');
        if (kind !== 'Job') {
          expect(container.livenessProbe, name).toBeDefined();
          expect(container.readinessProbe, name).toBeDefined();
        }
        if (name === 'cadvisor') {
          expect(container.securityContext).toEqual({ privileged: true });
          continue;
        }
        expect(container.securityContext.allowPrivilegeEscalation, name).toBe(false);
        expect(container.securityContext.capabilities.drop, name).toEqual(['ALL']);
      }
    }
  });

  it('runs the images that allow it as non-root', () => {
    for (const [name, uid] of [
      ['prometheus', 65534],
      ['grafana', 472],
      ['loki', 10001],
    ] as const) {
      expect(podSpec(reference.get('StatefulSet', 'monitoring', name)).securityContext).toEqual({ runAsNonRoot: true, runAsUser: uid, runAsGroup: uid, fsGroup: uid });
    }
    expect(podSpec(reference.get('Deployment', 'edge', 'caddy')).containers[0].securityContext.capabilities).toEqual({ drop: ['ALL'], add: ['NET_BIND_SERVICE'] });
  });

  it('keeps the right to listen below 1024 for services that do (dropping ALL would take it from root too)', () => {
    for (const [kind, ns, name] of [
      ['Deployment', 'dmz', 'technitium'],
      ['StatefulSet', 'monitoring', 'ntfy'],
      ['Deployment', 'edge', 'caddy'],
    ] as const) {
      expect(podSpec(reference.get(kind, ns, name)).containers[0].securityContext.capabilities.add, name).toContain('NET_BIND_SERVICE');
    }
    expect(podSpec(reference.get('StatefulSet', 'services', 'postgres')).containers[0].securityContext.capabilities.add).not.toContain('NET_BIND_SERVICE');
  });

  it('autoscales LiteLLM and Open WebUI 1-3 at 70% CPU, and leaves their replicas to the HPA', () => {
    for (const name of ['litellm', 'open-webui']) {
      const hpa = reference.get('HorizontalPodAutoscaler', 'edge', name);
      expect(hpa.spec).toMatchObject({ minReplicas: 1, maxReplicas: 3, scaleTargetRef: { kind: 'Deployment', name } });
      expect(hpa.spec.metrics[0].resource).toEqual({ name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } });
      expect(reference.get('Deployment', 'edge', name).spec.replicas).toBeUndefined();
    }
  });

  it('puts Caddy (80/443 TCP, 443 UDP) and Technitium (53 UDP+TCP) behind ServiceLB', () => {
    const ports = (name: string, ns: string) => reference.get('Service', ns, `${name}-entry`).spec.ports.map((p: AnyObject) => `${p.port}/${p.protocol}`);
    expect(reference.get('Service', 'edge', 'caddy-entry').spec.type).toBe('LoadBalancer');
    expect(ports('caddy', 'edge')).toEqual(['80/TCP', '443/TCP', '443/UDP']);
    expect(ports('technitium', 'dmz')).toEqual(['53/UDP', '53/TCP']);
    expect(reference.files.get('README.md')).toContain('--disable traefik');
  });

  it('claims storage from the configured class, and keeps the claims when an app goes', async () => {
    const tree = await renderK3sTree(inlineConfig({ k3s: { storageClass: 'longhorn' } }));
    const templates = tree.get('StatefulSet', 'services', 'postgres').spec.volumeClaimTemplates;
    expect(templates[0].spec.storageClassName).toBe('longhorn');
    const claim = tree.get('PersistentVolumeClaim', 'edge', 'caddy-data');
    expect(claim.spec.storageClassName).toBe('longhorn');
    expect(claim.metadata.annotations['argocd.argoproj.io/sync-options']).toBe('Delete=false');
    expect(reference.get('PersistentVolumeClaim', 'edge', 'caddy-data').spec.storageClassName).toBe('local-path');
  });

  it('renders configs with cluster DNS names, the same files as Compose', () => {
    const caddyfile = reference.get('ConfigMap', 'edge', 'caddy-config').data.Caddyfile;
    expect(caddyfile).toContain('reverse_proxy open-webui.edge.svc.cluster.local:8080');
    const litellm = reference.get('ConfigMap', 'edge', 'litellm-config').data['config.yaml'];
    expect(litellm).toContain('http://ollama.gpu.svc.cluster.local:11434');
    const prometheus = reference.get('ConfigMap', 'monitoring', 'prometheus-config').data['prometheus.yml'];
    const jobs = (readYaml(prometheus) as { scrape_configs: AnyObject[] }).scrape_configs;
    const nodeExporter = jobs.find((j) => j.job_name === 'node-exporter');
    expect(nodeExporter.kubernetes_sd_configs).toEqual([
      { role: 'pod', namespaces: { names: ['monitoring'] }, selectors: [{ role: 'pod', label: 'app.kubernetes.io/name=node-exporter' }] },
    ]);
    expect(nodeExporter.relabel_configs).toEqual([
      { source_labels: ['__meta_kubernetes_pod_container_port_number'], regex: '9100', action: 'keep' },
      { source_labels: ['__meta_kubernetes_pod_node_name'], target_label: 'node' },
    ]);
    expect(jobs.filter((j) => j.kubernetes_sd_configs).map((j) => j.job_name).sort()).toEqual(['alloy', 'cadvisor', 'gpu-exporter', 'node-exporter']);
    expect(prometheus).toContain('caddy.edge.svc.cluster.local:9180');
  });

  it('one-shots are PostSync hook Jobs that run after their Application is healthy', () => {
    const job = reference.get('Job', 'gpu', 'ollama-init');
    expect(job.metadata.annotations).toEqual({ 'argocd.argoproj.io/hook': 'PostSync', 'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation' });
    expect(podSpec(job).restartPolicy).toBe('OnFailure');
  });

  it('gives Prometheus read access to pods only where it discovers exporters', () => {
    const role = reference.get('Role', 'monitoring', 'prometheus-discovery');
    expect(role.rules).toEqual([{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }]);
    expect(podSpec(reference.get('StatefulSet', 'monitoring', 'prometheus')).serviceAccountName).toBe('prometheus');
    expect(podSpec(reference.get('StatefulSet', 'services', 'postgres')).automountServiceAccountToken).toBe(false);
  });
});

describe('k3s: secrets', () => {
  it('renders no Secret and reads every secret by secretKeyRef from a Secret the template lists', () => {
    expect(reference.all('Secret')).toEqual([]);
    const script = reference.files.get('secrets/create-secrets.sh') ?? '';
    const readme = reference.files.get('secrets/README.md') ?? '';
    for (const kind of WORKLOAD_KINDS) {
      for (const workload of reference.all(kind)) {
        for (const env of podSpec(workload).containers[0].env ?? []) {
          const ref = env.valueFrom?.secretKeyRef;
          if (!ref) continue;
          expect(script).toContain(`make_secret ${workload.metadata.namespace} ${ref.name} ${ref.key}\n`);
          expect(readme).toContain(`| ${workload.metadata.namespace} | ${ref.name} | ${ref.key} |`);
        }
      }
    }
  });

  it('composes connection strings from secret variables, never from values', async () => {
    const tree = await fixtureK3sTree('optimal');
    const env = podSpec(tree.get('Deployment', 'edge', 'litellm')).containers[0].env;
    const names = env.map((e: AnyObject) => e.name);
    // LiteLLM gets the parts and percent-encodes them itself (test/postgres.test.ts connects that way).
    expect(env.find((e: AnyObject) => e.name === 'DATABASE_HOST').value).toBe('postgres.services.svc.cluster.local:5432');
    expect(env.find((e: AnyObject) => e.name === 'DATABASE_PASSWORD').value).toBe('$(PG_LITELLM_PASSWORD)');
    // Kubernetes expands $(NAME) only for variables defined earlier in the list.
    expect(names.indexOf('PG_LITELLM_PASSWORD')).toBeLessThan(names.indexOf('DATABASE_PASSWORD'));
    expect(names).not.toContain('PG_PASSWORD');
  });
});

describe('k3s: ArgoCD', () => {
  it('a root app-of-apps over the argocd folder, from the configured repository', async () => {
    const tree = await renderK3sTree(inlineConfig({ k3s: { argocd: { repoURL: 'https://git.home.arpa/me/homelab.git', targetRevision: 'live', path: 'deploy/k3s' } } }));
    const root = tree.get('Application', 'argocd', 'platform');
    expect(root.spec.source).toEqual({ repoURL: 'https://git.home.arpa/me/homelab.git', targetRevision: 'live', path: 'deploy/k3s/argocd', directory: { recurse: true } });
    expect(tree.get('Application', 'argocd', 'llm').spec.source.path).toBe('deploy/k3s/apps/llm');
    expect(tree.files.has('argocd/root.yaml')).toBe(true);
  });

  it('every child syncs automatically with prune, self-heal, CreateNamespace and ServerSideApply, retrying failed syncs', () => {
    for (const app of reference.all('Application')) {
      expect(app.spec.syncPolicy, app.metadata.name).toEqual({
        automated: { prune: true, selfHeal: true },
        syncOptions: ['CreateNamespace=true', 'ServerSideApply=true'],
        retry: { limit: -1, backoff: { duration: '30s', factor: 2, maxDuration: '10m' } },
      });
      expect(app.spec.destination.server).toBe('https://kubernetes.default.svc');
    }
  });

  it('sync waves: platform pieces first, and no stack before a stack it connects to', () => {
    const wave = (name: string) => Number(reference.get('Application', 'argocd', name).metadata.annotations['argocd.argoproj.io/sync-wave']);
    const waves = stackWaves(reference.platform);
    for (const c of reference.platform.connections) {
      if (c.from.stackName === c.to.stackName) continue;
      expect(wave(c.from.stackName), `${c.from.name} -> ${c.to.name}`).toBeGreaterThanOrEqual(wave(c.to.stackName));
    }
    for (const stack of waves.keys()) expect(wave(stack.name)).toBeGreaterThan(wave('network-policies'));
    expect(wave('namespaces')).toBeLessThan(wave('nvidia-device-plugin'));
    expect(wave('nvidia-device-plugin')).toBeLessThan(wave('network-policies'));
    // data and llm do not reach each other: llm (which reaches the GPU zone only) and data start together; chat waits for llm.
    expect(wave('chat')).toBeGreaterThan(wave('llm'));
    expect(wave('search')).toBeGreaterThan(wave('data'));
  });

  it('ships the argocd-cm Application health check so app-of-apps waves wait', () => {
    const cm = reference.get('ConfigMap', 'argocd', 'argocd-cm');
    expect(cm.data['resource.customizations.health.argoproj.io_Application']).toContain('hs.status = obj.status.health.status');
  });
});

describe('k3s: VLANs through Multus', () => {
  it('a zone with multus gets a macvlan NetworkAttachmentDefinition, its pods join it, and Multus is installed with k3s paths', async () => {
    const tree = await fixtureK3sTree('multus');
    const nad = tree.get('NetworkAttachmentDefinition', 'gpu', 'vlan-30');
    expect(JSON.parse(nad.spec.config)).toEqual({
      cniVersion: '0.3.1',
      name: 'vlan-30',
      type: 'macvlan',
      master: 'vlan30',
      mode: 'bridge',
      ipam: { type: 'whereabouts', range: '10.0.30.0/24', range_start: '10.0.30.128', range_end: '10.0.30.254' },
    });
    expect(tree.get('StatefulSet', 'gpu', 'ollama').spec.template.metadata.annotations['k8s.v1.cni.cncf.io/networks']).toBe('vlan-30');
    expect(tree.get('Deployment', 'edge', 'caddy').spec.template.metadata.annotations?.['k8s.v1.cni.cncf.io/networks']).toBeUndefined();
    const multus = tree.get('Application', 'argocd', 'multus');
    expect(multus.spec.source).toMatchObject({ chart: 'rke2-multus', repoURL: 'https://rke2-charts.rancher.io' });
    expect(reference.find('Application', 'argocd', 'multus')).toBeUndefined();
  });

  it('one definition serves nodes with different NIC names: each node creates vlan<id> on its own NIC', async () => {
    const loaded = inlineConfig({
      nodes: {
        homelab: { role: 'server', address: '192.168.1.10', interface: 'enp3s0' },
        rtx: { role: 'gpu', address: '192.168.1.11', interface: 'eno1', gpus: [{ model: 'RTX 4090', vramGb: 24 }] },
      },
      services: { searxng: { zone: 'gpu' } },
      zones: { gpu: { isolated: false, multus: true } },
    });
    const tree = await renderK3sTree(loaded);
    expect(JSON.parse(tree.get('NetworkAttachmentDefinition', 'gpu', 'vlan-30').spec.config).master).toBe('vlan30');
    expect(tree.files.get('nodes/rtx/vlans.sh')).toContain('nic=eno1\n');
    expect(tree.files.get('nodes/homelab/vlans.sh')).toContain('nic=enp3s0\n');
    expect(tree.files.get('nodes/rtx/vlans.sh')).toContain('ensure_vlan vlan30 30 # zone gpu, 10.0.30.0/24');
    expect(tree.files.get('README.md')).toContain('`rtx` (NIC `eno1`)');
  });
});

describe('k3s: create-secrets.sh', () => {
  const script = reference.files.get('secrets/create-secrets.sh') ?? '';
  /** The Secrets the script makes, `namespace/secret/VARIABLE`, in its order. */
  const listed = [...script.matchAll(/^make_secret (\S+) (\S+) (\S+)$/gm)].map((m) => ({ namespace: m[1] as string, name: m[2] as string, key: m[3] as string }));

  /**
   * Runs the script in a folder of its own (as `sh -c '<prefix>; . <script>'` when a prefix is given,
   * else as a program) with stand-ins on PATH: a kubectl that records each call's arguments (one
   * line in `calls`) and its stdin (`stdin.apply`), exiting $FAIL_APPLY when set, and a kubeseal
   * that records its arguments and copies its stdin, exiting 4 for the Secret named $FAIL_SEAL.
   * `awk` is the given program (the system's by default). Shell builtins only (no cat).
   */
  async function runScript(env: Record<string, string>, args: string[] = [], prefix?: string, awk?: string) {
    const dir = mkdtempSync(join(tmpdir(), 'secrets-'));
    const copyStdin = 'while IFS= read -r line || [ -n "$line" ]; do printf \'%s\\n\' "$line"; done';
    writeFileSync(
      join(dir, 'kubectl'),
      `#!/bin/sh\necho "kubectl $*" >> "${dir}/calls"\n${copyStdin} > "${dir}/stdin.apply"\nexit \${FAIL_APPLY:-0}\n`,
      { mode: 0o755 },
    );
    writeFileSync(
      join(dir, 'kubeseal'),
      `#!/bin/sh\necho "kubeseal $*" >> "${dir}/calls"\nfail=\nwhile IFS= read -r line || [ -n "$line" ]; do\n  [ "$line" != "  name: \${FAIL_SEAL:-}" ] || fail=1\n  printf '%s\\n' "$line"\ndone\n[ -z "$fail" ] || exit 4\n`,
      { mode: 0o755 },
    );
    if (awk) writeFileSync(join(dir, 'awk'), `#!/bin/sh\nexec ${awk} "$@"\n`, { mode: 0o755 });
    writeFileSync(join(dir, 'create-secrets.sh'), script, { mode: 0o755 });
    const path = join(dir, 'create-secrets.sh');
    const result = prefix === undefined
      ? await execa(path, args, { cwd: dir, env: { PATH: `${dir}:/usr/bin:/bin`, ...env }, extendEnv: false, reject: false })
      : await execa('sh', ['-c', `${prefix}; . "$0"`, path, ...args], { cwd: dir, env: { PATH: `${dir}:/usr/bin:/bin`, ...env }, extendEnv: false, reject: false });
    const read = (f: string) => {
      try {
        return readFileSync(join(dir, f), 'utf8');
      } catch {
        return undefined;
      }
    };
    const readBytes = (f: string) => readFileSync(join(dir, f));
    return { ...result, dir, calls: (read('calls') ?? '').split('\n').filter(Boolean), read, readBytes };
  }

  /** The manifests kubectl applied, parsed, each Secret's one value decoded to its bytes, by `namespace/secret`. */
  function appliedValues(manifests: string): Map<string, { key: string; value: Buffer }> {
    const documents = manifests.split(/^---\n/m).filter(Boolean).map((d) => readYaml(d));
    return new Map(documents.map((d) => {
      const [key, encoded] = Object.entries(d.data as Record<string, string>)[0] as [string, string];
      return [`${d.metadata.namespace}/${d.metadata.name}`, { key, value: Buffer.from(encoded, 'base64') }];
    }));
  }

  /** The manifest `kubectl create secret generic NAME --namespace NS --from-file=KEY=... --dry-run=client -o yaml` prints. */
  const kubectlManifest = (s: { namespace: string; name: string; key: string }, value: Buffer) =>
    `apiVersion: v1\ndata:\n  ${s.key}: ${value.toString('base64')}\nkind: Secret\nmetadata:\n  creationTimestamp: null\n  name: ${s.name}\n  namespace: ${s.namespace}\n`;

  const secretNames = [...new Set(listed.map((s) => s.key))];
  const values = Object.fromEntries(secretNames.map((name, i) => [name, `s3cret-${i}-$x'"`]));

  it('lists each Secret of the reference once; one variable may feed several', () => {
    expect(listed.length).toBe(new Set(listed.map((s) => `${s.namespace}/${s.name}`)).size);
    // BACKUP_RESTIC_PASSWORD feeds one Secret per namespace with a backup job.
    expect(listed.filter((s) => s.key === 'BACKUP_RESTIC_PASSWORD').length).toBeGreaterThan(1);
  });

  it('passes values to kubectl on stdin only (base64 in the manifests), and prints none of them', async () => {
    const result = await runScript(values);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain('applied services/pg-password');
    for (const value of Object.values(values)) {
      expect(result.stdout + result.stderr).not.toContain(value);
      expect(result.calls.join('\n')).not.toContain(value);
      expect(result.read('stdin.apply')).not.toContain(value);
    }
    const applied = appliedValues(result.read('stdin.apply') ?? '');
    for (const s of listed) expect(applied.get(`${s.namespace}/${s.name}`), `${s.namespace}/${s.name}`).toEqual({ key: s.key, value: Buffer.from(values[s.key] as string) });
  });

  it('apply: no kubectl create, but ONE kubectl apply of every manifest, each as kubectl create prints it and as `platform secrets k3s` writes it, then a line per Secret', async () => {
    const result = await runScript(values);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.calls).toEqual(['kubectl apply --filename -']);
    expect(result.read('stdin.apply')).toBe(listed.map((s) => `---\n${kubectlManifest(s, Buffer.from(values[s.key] as string))}`).join(''));
    // The other way to make them, from the secrets store: the same bytes, in the same order.
    const fromStore = k3sSecretManifests(reference.platform, { secrets: new Map(Object.entries(values)), passwords: new Map() });
    expect(fromStore.map((m) => `---\n${m.manifest}`).join('')).toBe(result.read('stdin.apply'));
    expect(result.stdout).toBe(listed.map((s) => `applied ${s.namespace}/${s.name}`).join('\n'));
    expect(result.stderr).toBe('');
  });

  it('checks every variable first: one error names each missing one once, exit 1, and kubectl never runs', async () => {
    const { DNS_ADMIN_PASSWORD: _, BACKUP_RESTIC_PASSWORD: __, PG_USER: ___, ...rest } = values;
    for (const mode of ['apply', 'seal']) {
      const result = await runScript({ ...rest, SEALED_DIR: 'sealed' }, [mode]);
      expect(result.exitCode).toBe(1);
      // In the script's order; BACKUP_RESTIC_PASSWORD feeds five Secrets and is named once.
      expect(result.stderr).toBe('error: BACKUP_RESTIC_PASSWORD, DNS_ADMIN_PASSWORD, PG_USER are not set; export them first (see README.md for how to make them)');
      expect(result.stdout).toBe('');
      expect(result.calls).toEqual([]);
      expect(result.read('sealed/services-pg-password.yaml')).toBeUndefined();
    }
    const one = await runScript({ ...values, DNS_ADMIN_PASSWORD: '\n\n' });
    expect(one.exitCode).toBe(1);
    expect(one.stderr).toBe('error: DNS_ADMIN_PASSWORD is not set; export it first (see README.md for how to make one)');
    expect(one.calls).toEqual([]);
  });

  it('a value reaches kubectl as printenv gives it: trailing newlines dropped, nothing else changed', async () => {
    const hostile = ` two  spaces 'single' "double" $(touch pwned) \`touch pwned\` \${PG_USER} \\ back\\slash\n\tinner line\r\n*\n\n`;
    const result = await runScript({ ...values, PG_PASSWORD: hostile });
    expect(result.exitCode, result.stderr).toBe(0);
    const printenv = await execa('printenv', ['PG_PASSWORD'], { env: { PG_PASSWORD: hostile }, extendEnv: false, stripFinalNewline: false });
    const expected = printenv.stdout.replace(/\n+$/, '');
    expect(expected).toBe(hostile.replace(/\n+$/, ''));
    expect(appliedValues(result.read('stdin.apply') ?? '').get('services/pg-password')?.value.toString('utf8')).toBe(expected);
    expect(readdirSync(result.dir)).not.toContain('pwned');
    expect(result.stdout + result.stderr + result.calls.join('\n')).not.toContain('two  spaces');
  });

  /** Every byte the environment can hold, 0x01..0xff in order (the newline inside, not at the end). */
  const everyByte = Buffer.from(Array.from({ length: 255 }, (_, i) => i + 1));
  /** Values of 1 to 5 bytes (every padding case of base64), with bytes that encode to "+" and "/". */
  const shortValues = ['\xfb', '\xfb\xff', '>?\xfe', '\xff\xfe\xfd\xfc', '\x01\x02\x03\x04\x05'].map((v) => Buffer.from(v, 'latin1'));
  /** A shell prefix that exports PG_PASSWORD as every byte and the first five variables as the short values. */
  const octal = (bytes: Buffer) => [...bytes].map((b) => `\\0${b.toString(8).padStart(3, '0')}`).join('');
  const bytesPrefix = [
    `PG_PASSWORD=$(printf '%b' '${octal(everyByte)}\\n\\n'); export PG_PASSWORD`,
    ...shortValues.map((v, i) => `${secretNames[i]}=$(printf '%b' '${octal(v)}'); export ${secretNames[i]}`),
  ].join('; ');

  it('every byte 1..255 and every length mod 3 survive the base64 of awk, with each awk at hand', async () => {
    expect(secretNames.slice(0, 5)).not.toContain('PG_PASSWORD');
    const expected = new Map<string, Buffer>([['PG_PASSWORD', everyByte], ...shortValues.map((v, i) => [secretNames[i] as string, v] as const)]);
    // mawk is Debian's awk; gawk and busybox awk are installed by .ci/run to prove the script portable.
    const awks = ['awk', ...['mawk', 'gawk', 'busybox'].filter((tool) => toolAvailable(tool)).map((tool) => (tool === 'busybox' ? 'busybox awk' : tool))];
    const outputs: string[] = [];
    for (const awk of awks) {
      const result = await runScript(values, [], bytesPrefix, awk === 'awk' ? undefined : awk);
      expect(result.exitCode, `${awk}: ${result.stderr}`).toBe(0);
      const manifests = result.read('stdin.apply') ?? '';
      const applied = appliedValues(manifests);
      for (const s of listed) {
        const value = expected.get(s.key) ?? Buffer.from(values[s.key] as string);
        expect(applied.get(`${s.namespace}/${s.name}`)?.value, `${awk}: ${s.key}`).toEqual(value);
        expect(manifests, `${awk}: ${s.key}`).toContain(`---\n${kubectlManifest(s, value)}`);
      }
      expect(result.readBytes('stdin.apply').includes(Buffer.from('\xfb\xff', 'latin1'))).toBe(false);
      outputs.push(manifests);
    }
    expect(new Set(outputs).size).toBe(1);
  });

  it('a shell variable that is not exported is not set (printenv sees only the environment)', async () => {
    const { PG_PASSWORD: _, ...rest } = values;
    const result = await runScript(rest, [], 'PG_PASSWORD=not-exported');
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe('error: PG_PASSWORD is not set; export it first (see README.md for how to make one)');
    expect(result.calls).toEqual([]);
    // The same variable exported counts, read from the environment.
    const exported = await runScript(rest, [], 'PG_PASSWORD=exported; export PG_PASSWORD');
    expect(exported.exitCode, exported.stderr).toBe(0);
    expect(appliedValues(exported.read('stdin.apply') ?? '').get('services/pg-password')?.value.toString()).toBe('exported');
  });

  it('a failing awk fails the script before anything is applied or sealed', async () => {
    for (const mode of ['apply', 'seal']) {
      const result = await runScript({ ...values, SEALED_DIR: 'sealed' }, [mode], undefined, 'false');
      expect(result.exitCode, mode).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.calls).toEqual([]);
      expect(result.read('sealed/services-pg-password.yaml')).toBeUndefined();
    }
  });

  it('a failing kubectl apply fails the script, and no Secret is said to be applied', async () => {
    const result = await runScript({ ...values, FAIL_APPLY: '5' });
    expect(result.exitCode).toBe(5);
    expect(result.calls).toEqual(['kubectl apply --filename -']);
    expect(result.stdout).toBe('');
  });

  it('a failing kubeseal fails the script there: no later Secret is sealed or said to be', async () => {
    // The first Secret after the first whose name no other Secret has: kubeseal fails on it alone.
    const at = listed.findIndex((s, i) => i > 0 && listed.filter((o) => o.name === s.name).length === 1);
    expect(at).toBeGreaterThan(0);
    const result = await runScript({ ...values, SEALED_DIR: 'sealed', FAIL_SEAL: (listed[at] as (typeof listed)[number]).name }, ['seal']);
    expect(result.exitCode).toBe(4);
    expect(result.calls).toEqual(listed.slice(0, at + 1).map(() => 'kubeseal --format yaml'));
    expect(result.stdout).toBe(listed.slice(0, at).map((s) => `sealed ${s.namespace}/${s.name}`).join('\n'));
  });

  it('seal: each Secret\'s manifest through kubeseal into <namespace>-<secret>.yaml of SEALED_DIR', async () => {
    const result = await runScript({ ...values, SEALED_DIR: 'sealed' }, ['seal']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toBe(listed.map((s) => `sealed ${s.namespace}/${s.name}`).join('\n'));
    expect(result.calls).toEqual(listed.map(() => 'kubeseal --format yaml'));
    expect(readdirSync(join(result.dir, 'sealed')).sort()).toEqual(listed.map((s) => `${s.namespace}-${s.name}.yaml`).sort());
    for (const s of listed) {
      expect(result.read(`sealed/${s.namespace}-${s.name}.yaml`)).toBe(kubectlManifest(s, Buffer.from(values[s.key] as string)));
    }
  });

  it('refuses to seal without a folder to seal into', async () => {
    const result = await runScript(values, ['seal']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe('error: set SEALED_DIR (or k3s.sealedSecretsPath in platform.yaml)');
    expect(result.calls).toEqual([]);
  });

  it('refuses at render a name the script could not carry as data', () => {
    const platform = buildPlatform(inlineConfig({}));
    const service = platform.services.find((s) => s.secrets.length > 0 && !s.external) as Service;
    const withSecret = (name: string) => {
      const secret = Object.create(service.secrets[0] as Secret, { name: { value: name } }) as Secret;
      const changed = Object.create(service, { secrets: { value: [...service.secrets, secret] } }) as Service;
      return Object.create(platform, { services: { value: platform.services.map((s) => (s === service ? changed : s)) } }) as typeof platform;
    };
    expect(renderSecretsScript(withSecret('GOOD_NAME'))).toContain(` good-name GOOD_NAME\n`);
    expect(() => renderSecretsScript(withSecret('BAD;NAME'))).toThrow('create-secrets.sh: "bad;name" is not a Kubernetes name (a-z, 0-9, "-")');
    expect(() => renderSecretsScript(withSecret('lower'))).toThrow('create-secrets.sh: "lower" is not a shell variable name (A-Z, 0-9, "_")');
    expect(() => renderSecretsScript(withSecret('A-B'))).toThrow('create-secrets.sh: "A-B" is not a shell variable name (A-Z, 0-9, "_")');
    expect(() => renderSecretsScript(withSecret('PPID'))).toThrow('create-secrets.sh: "PPID" is a variable the shell sets or reads itself');
    expect(() => new Secret(platform, 'IFS', { generate: 'password', description: 'x' })).toThrow(/secret name "IFS" is a variable the shell sets or reads itself; none of CDPATH, ENV, .*LC_\*, /);
  });
});
