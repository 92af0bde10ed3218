/**
 * The k3s target on a real cluster: what the API server, ArgoCD and the scheduler do with the
 * rendered tree, modelled from their upstream source (see test/support/k8s-validation.ts and
 * test/support/argocd-waves.ts for the rules and where each comes from).
 */
import { describe, expect, it } from 'vitest';
import { PROFILE_NAMES, PROFILES } from '../lib/config/profiles.js';
import { rolloutSurgePods, workloadKind } from '../charts/service-workload.js';
import { fixtureNames, inlineConfig, loadFixture } from './support/render.js';
import { renderK3sTree, podSpec, type AnyObject, type K3sTree } from './support/k3s.js';
import { apiServerProblems } from './support/k8s-validation.js';
import { podDemand, quotaOf, quotaUsage, simulateBootstrap } from './support/argocd-waves.js';
import type { LoadedConfig } from '../lib/config/load.js';

/** Every profile of `platform init` and every valid fixture (multus, sealed secrets, gpu-over-lan among them). */
const CASES: [string, () => LoadedConfig | undefined][] = [
  ['reference', () => undefined],
  ...PROFILE_NAMES.map((p): [string, () => LoadedConfig] => [`profile ${p}`, () => inlineConfig(PROFILES[p].config as never)]),
  ...fixtureNames('valid').map((f): [string, () => LoadedConfig] => [`fixture ${f}`, () => loadFixture('valid', f)]),
];

const trees = new Map<string, K3sTree>();
async function tree(name: string): Promise<K3sTree> {
  const found = trees.get(name);
  if (found) return found;
  const load = CASES.find(([n]) => n === name)?.[1];
  if (!load) throw new Error(`no case ${name}`);
  const rendered = await renderK3sTree(load());
  trees.set(name, rendered);
  return rendered;
}

function problemsOf(t: K3sTree): string[] {
  return t.objects.flatMap((o) => apiServerProblems(o).map((p) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}: ${p}`));
}

describe('the API server accepts every rendered object (rules beyond the schema)', () => {
  it.each(CASES.map(([n]) => n))('%s', async (name) => {
    expect(problemsOf(await tree(name))).toEqual([]);
  });

  it('the rules can fail: each one the schema lets through is refused', () => {
    const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ollama-init', namespace: 'gpu' }, spec: { type: 'ClusterIP', ports: [] } };
    expect(apiServerProblems(service)).toContain('spec.ports: Required value (only a headless or ExternalName Service may have none)');
    expect(apiServerProblems({ ...service, spec: { clusterIP: 'None', ports: [] } })).toEqual([]);
    expect(apiServerProblems({ ...service, metadata: { name: '1ollama' } })[0]).toMatch(/RFC 1035/);
    const two = { ...service, spec: { ports: [{ name: 'metrics-exporter-http', port: 80 }, { port: 81 }] } };
    expect(apiServerProblems(two)).toEqual([
      'spec.ports[0].name: metrics-exporter-http must be 1 to 15 characters (IANA_SVC_NAME)',
      'spec.ports[1].name: Required value when there is more than one port',
    ]);
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'x', namespace: 'edge', labels: { 'app.kubernetes.io/name': 'a'.repeat(64) } },
      spec: {
        selector: { matchLabels: { app: 'x' } },
        template: {
          metadata: { labels: { app: 'y' } },
          spec: {
            containers: [
              { name: 'c', image: 'i:1', env: [{ name: '1BAD', value: 'v' }], ports: [{ name: 'http', containerPort: 80 }, { name: 'http', containerPort: 81 }] },
              { name: 'c', image: 'i:1', volumeMounts: [{ name: 'data', mountPath: '/d' }] },
            ],
          },
        },
      },
    };
    expect(apiServerProblems(deployment)).toEqual([
      `metadata.labels.app.kubernetes.io/name: value "${'a'.repeat(64)}" is not a valid label value`,
      'spec.template.metadata.labels: selector does not match template labels (app=x)',
      'spec.template.spec.containers[0].ports[1].name: duplicate http',
      'spec.template.spec.containers[0].env[0].name: 1BAD is not a valid environment variable name',
      'spec.template.spec.containers[1].name: duplicate c',
      'spec.template.spec.containers[1].volumeMounts[0].name: no volume named data',
    ]);
  });
});

describe('ArgoCD bootstrap: every wave becomes Healthy', () => {
  it.each(CASES.map(([n]) => n))('%s reaches the last wave', async (name) => {
    const t = await tree(name);
    const run = simulateBootstrap(t);
    expect(run.stuckAt, JSON.stringify(run.stuckAt, null, 2)).toBeUndefined();
    const children = t.all('Application').filter((a) => a.metadata.name !== 'platform');
    expect(run.apps.map((a) => a.name).sort()).toEqual(children.map((a) => a.metadata.name).sort());
    expect(run.servicesWithoutEndpoints).toEqual([]);
    expect(run.apps.flatMap((a) => a.excluded)).toEqual([]);
  });

  it('the model stops at the first unhealthy wave and says why (a quota too small for one pod)', async () => {
    const t = await renderK3sTree();
    const quota = t.get('ResourceQuota', 'services', 'zone-quota');
    quota.spec.hard['limits.memory'] = '1Gi';
    for (const [path, content] of t.files) {
      if (path === 'apps/namespaces/resourcequota-services-zone-quota.yaml') t.files.set(path, content.replace(/limits\.memory: .*/, 'limits.memory: 1Gi'));
    }
    const run = simulateBootstrap(t);
    expect(run.stuckAt?.name).toBe('data');
    expect(run.stuckAt?.reasons.join('\n')).toMatch(/exceeded quota zone-quota in services: limits.memory/);
  });

  it('the variants are covered: multus, sealed secrets, gpu-over-lan', async () => {
    const multus = await tree('fixture multus');
    expect(multus.find('Application', 'argocd', 'multus')).toBeDefined();
    expect(multus.find('Application', 'argocd', 'sealed-secrets')).toBeDefined();
    expect((await tree('fixture gpu-over-lan')).find('EndpointSlice', 'gpu', 'ollama-lan')).toBeDefined();
  });
});

describe('quotas admit one rolling update of any workload on top of the steady state', () => {
  it.each(CASES.map(([n]) => n))('%s', async (name) => {
    const t = await tree(name);
    const failures: string[] = [];
    for (const zone of t.platform.zones.values()) {
      const quota = quotaOf(t, zone.namespace);
      if (!quota) continue;
      const services = t.platform.services.filter((s) => s.zone === zone && !s.external);
      // Steady state: every pod at its most (HPA maximum, one per node for DaemonSets), read from the
      // rendered objects.
      const steady: Record<string, number> = {};
      const perPod = new Map<string, Record<string, number>>();
      const surgeOf = new Map<string, number>();
      for (const service of services) {
        const kind = workloadKind(service);
        const workload = t.get(kind, zone.namespace, service.name) as AnyObject;
        const usage = quotaUsage(podDemand(podSpec(workload)));
        perPod.set(service.name, usage);
        const hpa = t.find('HorizontalPodAutoscaler', zone.namespace, service.name);
        const pods = kind === 'DaemonSet' ? service.nodes.length : (hpa?.spec.maxReplicas ?? workload.spec.replicas ?? 1);
        for (const [k, v] of Object.entries(usage)) steady[k] = (steady[k] ?? 0) + v * pods;
        // A RollingUpdate Deployment surges by maxSurge (default 25%, rounded up: kubernetes
        // pkg/controller/deployment/util/deployment_util.go ResolveFenceposts); Recreate, StatefulSets
        // (one pod replaced at a time), DaemonSets (default maxSurge 0) and hook Jobs do not.
        const rolling = kind === 'Deployment' && workload.spec.strategy?.type !== 'Recreate';
        const maxSurge = workload.spec.strategy?.rollingUpdate?.maxSurge ?? '25%';
        surgeOf.set(service.name, rolling ? Math.ceil((pods * Number.parseInt(String(maxSurge), 10)) / 100) : 0);
      }
      // One rollout at a time: the surge pods of that workload beside every old pod.
      for (const service of services) {
        const surge = surgeOf.get(service.name) ?? 0;
        expect(surge, service.name).toBe(rolloutSurgePods(service));
        for (const [k, v] of Object.entries(perPod.get(service.name) ?? {})) {
          const need = (steady[k] ?? 0) + v * surge;
          if (need > (quota[k] ?? Infinity) + 1e-6) failures.push(`${zone.namespace}: rolling ${service.name} needs ${k} ${need.toFixed(3)} > ${quota[k]}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });
});

describe('issue 20: each way the bootstrap used to break', () => {
  it('1. Multus starts on k3s: the thin entrypoint reads its master CNI config from k3s\'s directory', async () => {
    const t = await tree('fixture multus');
    const multus = t.get('Application', 'argocd', 'multus');
    expect(multus.spec.source.targetRevision).toBe('v4.2.401');
    expect(multus.spec.source.helm.valuesObject.config.cni_conf).toEqual({
      confDir: '/var/lib/rancher/k3s/agent/etc/cni/net.d',
      binDir: '/var/lib/rancher/k3s/data/cni/',
      kubeconfig: '/var/lib/rancher/k3s/agent/etc/cni/net.d/multus.d/multus.kubeconfig',
      multusAutoconfigDir: '/var/lib/rancher/k3s/agent/etc/cni/net.d',
    });
    // Without it the DaemonSet never becomes available and the root waits at Multus's wave for ever.
    const broken = structuredClone(multus);
    delete broken.spec.source.helm.valuesObject.config.cni_conf.multusAutoconfigDir;
    const stuck = simulateBootstrap({ ...t, all: (kind: string) => t.all(kind).map((a: AnyObject) => (a.metadata.name === 'multus' ? broken : a)) });
    expect(stuck.stuckAt?.name).toBe('multus');
    expect(stuck.stuckAt?.reasons[0]).toContain('"cannot find valid master CNI config" in /etc/cni/net.d');
  });

  it('2. gpu-over-lan: no Service without ports, and ArgoCD applies the EndpointSlices of the workstation', async () => {
    const t = await tree('fixture gpu-over-lan');
    for (const s of t.all('Service')) expect(s.spec.ports?.length ?? 0, s.metadata.name).toBeGreaterThan(0);
    expect(t.find('Service', 'gpu', 'ollama-init')).toBeUndefined();
    expect(t.find('Service', 'gpu', 'comfyui-models')).toBeUndefined();
    const cm = t.get('ConfigMap', 'argocd', 'argocd-cm');
    const exclusions = (await import('yaml')).parse(cm.data['resource.exclusions']);
    expect(exclusions.some((e: AnyObject) => e.kinds.includes('EndpointSlice'))).toBe(false);
    expect(exclusions).toContainEqual({ apiGroups: [''], kinds: ['Endpoints'] });
    expect(exclusions).toContainEqual({ apiGroups: ['coordination.k8s.io'], kinds: ['Lease'] });
    // With ArgoCD 3.x's default exclusions the slices are skipped and nothing answers for ollama or comfyui.
    const defaults = structuredClone(cm);
    delete defaults.data['resource.exclusions'];
    const run = simulateBootstrap({ ...t, get: (kind, ns, name) => (kind === 'ConfigMap' && name === 'argocd-cm' ? defaults : t.get(kind, ns, name)) });
    expect(run.apps.flatMap((a) => a.excluded).sort()).toEqual(['EndpointSlice gpu/comfyui-lan', 'EndpointSlice gpu/ollama-lan']);
    expect(run.servicesWithoutEndpoints.sort()).toEqual(['gpu/comfyui', 'gpu/ollama']);
  });

  it('3. monitoring\'s quota leaves room for the largest surge pod', async () => {
    const t = await tree('reference');
    const blackbox = t.platform.service('blackbox-exporter');
    expect(blackbox && rolloutSurgePods(blackbox)).toBe(1);
    const hard = quotaOf(t, 'monitoring') as Record<string, number>;
    const usage = quotaUsage(podDemand(podSpec(t.get('Deployment', 'monitoring', 'blackbox-exporter'))));
    // 8.25 cores of limits in steady state; the surge of blackbox-exporter (or a larger one) must fit on top.
    expect(hard['limits.cpu']).toBeGreaterThanOrEqual(8.25 + (usage['limits.cpu'] ?? 0));
  });

  it('4. whereabouts never hands out the gateway, the sub-interface is created by each node, NIC names come from the config', async () => {
    const t = await tree('fixture multus');
    const config = JSON.parse(t.get('NetworkAttachmentDefinition', 'gpu', 'vlan-30').spec.config);
    const toInt = (ip: string) => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
    const gateway = toInt('10.0.30.1');
    const inRange = (ip: number) => ip >= toInt(config.ipam.range_start) && ip <= toInt(config.ipam.range_end) && !(config.ipam.exclude ?? []).includes(`${'10.0.30.1'}/32`);
    expect(inRange(gateway)).toBe(false);
    expect(config.master).toBe('vlan30');
    expect(t.files.get('nodes/rtx/vlans.sh')).toContain('ensure_vlan vlan30 30');
    expect(t.files.get('nodes/rtx/vlans.sh')).toContain('nic=eth0\n');
    // A gateway in the upper half is excluded by name.
    const high = await renderK3sTree(inlineConfig({ zones: { gpu: { isolated: false, multus: true, gateway: '10.0.30.254' } } }));
    expect(JSON.parse(high.get('NetworkAttachmentDefinition', 'gpu', 'vlan-30').spec.config).ipam.exclude).toEqual(['10.0.30.254/32']);
    // Without vlans.sh on the node the pod never gets its interface: the model says so.
    const noScript = new Map([...t.files].filter(([path]) => !path.startsWith('nodes/')));
    const run = simulateBootstrap({ ...t, files: noScript });
    expect(run.stuckAt?.reasons.join('\n')).toContain('macvlan: Link not found: vlan30 on rtx');
  });

  it('4b. the vlans.sh a node runs creates the sub-interface idempotently and refuses a NIC that does not exist', async () => {
    const { execa } = await import('execa');
    const { mkdtempSync, writeFileSync, chmodSync, readFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const script = (await tree('fixture multus')).files.get('nodes/rtx/vlans.sh') as string;
    const dir = mkdtempSync(join(tmpdir(), 'vlans-'));
    try {
      // A stand-in `ip`: eth0 exists, vlan30 appears once added; every call is recorded.
      writeFileSync(
        join(dir, 'ip'),
        `#!/bin/sh\necho "$*" >> "${dir}/calls"\ncase "$*" in\n  "link show eth0") exit 0 ;;\n  "link show vlan30") grep -q "name vlan30" "${dir}/calls" 2>/dev/null && [ "$(grep -c 'name vlan30' "${dir}/calls")" -ge 1 ] && exit 0; exit 1 ;;\n  "link show"*) exit 1 ;;\nesac\nexit 0\n`,
      );
      chmodSync(join(dir, 'ip'), 0o755);
      writeFileSync(join(dir, 'vlans.sh'), script);
      const run = () => execa('sh', [join(dir, 'vlans.sh')], { env: { PATH: `${dir}:/usr/bin:/bin` }, extendEnv: false, reject: false });
      expect((await run()).exitCode).toBe(0);
      expect((await run()).exitCode).toBe(0);
      const calls = readFileSync(join(dir, 'calls'), 'utf8');
      expect(calls.match(/link add link eth0 name vlan30 type vlan id 30/g)).toHaveLength(1);
      expect(calls).toContain('link set vlan30 up');
      writeFileSync(join(dir, 'vlans.sh'), script.replace('nic=eth0', 'nic=enp9s0'));
      const missing = await run();
      expect(missing.exitCode).toBe(1);
      expect(missing.stderr).toContain('error: no interface enp9s0');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('5. an isolated zone cannot use Multus, and the README says plainly what NetworkPolicies do not cover', async () => {
    const { renderK3s, buildPlatform } = await import('../lib/synth.js');
    const loaded = inlineConfig({ zones: { gpu: { multus: true } } });
    await expect(renderK3s(loaded, buildPlatform(loaded))).rejects.toThrow(/zones\.gpu\.multus: zone "gpu" is isolated, but NetworkPolicies filter only the pods' primary interface/);
    const readme = (await tree('fixture multus')).files.get('README.md') as string;
    expect(readme).toContain('**NetworkPolicies do not cover the VLAN interface.**');
    expect(readme).toContain('`gpu` on VLAN 30, pod addresses 10.0.30.128-10.0.30.254');
  });

  it('6. the root and every child retry a failed sync for the same commit', async () => {
    const t = await tree('fixture multus');
    for (const app of t.all('Application')) {
      expect(app.spec.syncPolicy.retry, app.metadata.name).toEqual({ limit: -1, backoff: { duration: '30s', factor: 2, maxDuration: '10m' } });
    }
    expect(t.files.get('argocd/root.yaml')).toContain('limit: -1');
  });

  it('7. volumeClaimTemplates carry apiVersion and kind; every child Application cascades, namespaces and claims stay', async () => {
    const t = await tree('fixture multus');
    for (const sts of t.all('StatefulSet')) {
      for (const claim of sts.spec.volumeClaimTemplates ?? []) expect(claim, sts.metadata.name).toMatchObject({ apiVersion: 'v1', kind: 'PersistentVolumeClaim' });
    }
    for (const app of t.all('Application')) {
      const finalizers = app.metadata.finalizers;
      if (app.metadata.name === 'platform') expect(finalizers).toBeUndefined();
      else expect(finalizers, app.metadata.name).toEqual(['resources-finalizer.argocd.argoproj.io']);
    }
    for (const name of ['namespaces', 'multus', 'vlans', 'network-policies', 'nvidia-device-plugin', 'sealed-secrets']) {
      expect(t.get('Application', 'argocd', name).metadata.finalizers).toEqual(['resources-finalizer.argocd.argoproj.io']);
    }
    for (const ns of t.all('Namespace')) expect(ns.metadata.annotations['argocd.argoproj.io/sync-options']).toBe('Delete=false');
    for (const pvc of t.all('PersistentVolumeClaim')) expect(pvc.metadata.annotations['argocd.argoproj.io/sync-options']).toBe('Delete=false');
  });

  it('8. optimal: where time-slicing cannot keep the plan\'s GPU placement, the summary and validate say so', async () => {
    const t = await tree('fixture optimal');
    expect(t.notes).toContain(
      'gpu-a: Compose pins ollama GPU 0, comfyui GPU 1, mochi GPU 0+1; on k3s the device plugin hands out time-sliced slots of any of the 2 GPUs, so services the plan keeps apart may share one GPU while another idles.',
    );
    const { validatePlatform } = await import('../lib/validate/rules.js');
    const findings = validatePlatform(t.platform).filter((f) => f.rule === 'gpu-placement-k3s');
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ severity: 'warning', path: ['nodes', 'gpu-a', 'gpus'] });
    // One GPU per node: nothing to lose.
    expect(validatePlatform((await tree('reference')).platform).filter((f) => f.rule === 'gpu-placement-k3s')).toEqual([]);
  });

  it('9. seal writes to the repository-root folder the sealed-secrets Application reads, from any working directory', async () => {
    const { execa } = await import('execa');
    const { mkdtempSync, mkdirSync, writeFileSync, chmodSync, existsSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const t = await tree('fixture multus');
    const { path } = t.platform.config.k3s.argocd;
    const sealedPath = t.platform.config.k3s.sealedSecretsPath as string;
    expect(t.get('Application', 'argocd', 'sealed-secrets').spec.source.path).toBe(sealedPath);
    const repo = mkdtempSync(join(tmpdir(), 'repo-'));
    const bin = mkdtempSync(join(tmpdir(), 'bin-'));
    try {
      const secrets = join(repo, path, 'secrets');
      mkdirSync(secrets, { recursive: true });
      writeFileSync(join(secrets, 'create-secrets.sh'), t.files.get('secrets/create-secrets.sh') as string);
      chmodSync(join(secrets, 'create-secrets.sh'), 0o755);
      // Stand-ins of shell builtins only (no cat): the script runs kubeseal once per Secret, twice over.
      writeFileSync(join(bin, 'kubectl'), '#!/bin/sh\nwhile IFS= read -r line || [ -n "$line" ]; do :; done\necho "apiVersion: v1"\n');
      writeFileSync(join(bin, 'kubeseal'), '#!/bin/sh\nwhile IFS= read -r line || [ -n "$line" ]; do printf \'%s\\n\' "$line"; done\n');
      writeFileSync(join(bin, 'git'), '#!/bin/sh\nexit 128\n');
      for (const f of ['kubectl', 'kubeseal', 'git']) chmodSync(join(bin, f), 0o755);
      const script = t.files.get('secrets/create-secrets.sh') as string;
      const env = Object.fromEntries([...script.matchAll(/^make_secret \S+ \S+ (\S+)$/gm)].map((m) => [m[1] as string, 'x']));
      // Run from inside the secrets folder (which synth replaces) and from elsewhere: both land at the root.
      for (const cwd of [secrets, tmpdir()]) {
        const result = await execa(join(secrets, 'create-secrets.sh'), ['seal'], { cwd, env: { PATH: `${bin}:/usr/bin:/bin`, ...env }, extendEnv: false, reject: false });
        expect(result.exitCode, result.stderr).toBe(0);
      }
      expect(existsSync(join(repo, sealedPath, 'services-pg-password.yaml'))).toBe(true);
      expect(existsSync(join(secrets, sealedPath))).toBe(false);
    } finally {
      for (const dir of [repo, bin]) rmSync(dir, { recursive: true, force: true });
    }
  });

  it('10. a partial zones: block merges with the reference zones', async () => {
    const loaded = inlineConfig({ zones: { gpu: { multus: true, isolated: false } } });
    expect(loaded.config.zones.gpu).toMatchObject({ vlan: 30, subnet: '10.0.30.0/24', multus: true, isolated: false });
    expect(Object.keys(loaded.config.zones).sort()).toEqual(['dmz', 'edge', 'gpu', 'monitoring', 'services']);
    const withLab = inlineConfig({ zones: { lab: { vlan: 60, subnet: '10.0.60.0/24' } } });
    expect(Object.keys(withLab.config.zones)).toContain('lab');
    expect(Object.keys(withLab.config.zones)).toContain('gpu');
    const t = await renderK3sTree(loaded);
    expect(simulateBootstrap(t).stuckAt).toBeUndefined();
  });
});
