/**
 * A model of what ArgoCD does with the rendered k3s tree after `kubectl apply -f argocd/root.yaml`:
 * the root syncs the child Applications wave by wave and moves to the next wave only when every
 * Application of the current one is Healthy (the argocd-cm health check of Applications). Each child
 * syncs its objects: a dry run the API server refuses fails the sync (nothing is applied, the app is
 * Missing), excluded kinds are skipped, and the app's health is the worst health of its objects.
 *
 * Health follows ArgoCD's rules (argo-cd v3.5.1, gitops-engine/pkg/health/), applied to the state
 * the cluster reaches: a pod runs when its namespace's ResourceQuota admits it, its node exists and
 * has the CPU, memory and GPU slots, and its Multus network exists on that node.
 */
import type { Manifest } from '../../charts/output-chart.js';
import { manifestsOf, type K3sTree, type AnyObject } from './k3s.js';
import { apiServerProblems } from './k8s-validation.js';
import { compareText } from '../../lib/output/order.js';
import { readYaml } from './yaml.js';

/** health.go: HealthStatusCode order, best to worst (IsWorse). */
const HEALTH_ORDER = ['Healthy', 'Suspended', 'Progressing', 'Missing', 'Degraded', 'Unknown'] as const;
export type Health = (typeof HEALTH_ORDER)[number];

/** ArgoCD 3.x default `resource.exclusions` (argo-cd v3.5.1 manifests/base/config/argocd-cm.yaml), the part that matters here. */
const ARGOCD_DEFAULT_EXCLUSIONS = [{ apiGroups: ['', 'discovery.k8s.io'], kinds: ['Endpoints', 'EndpointSlice'] }];

/** Where k3s keeps its CNI config: the only directory the thin Multus entrypoint finds a master config in. */
const K3S_CNI_CONF_DIR = '/var/lib/rancher/k3s/agent/etc/cni/net.d';

export interface AppResult {
  readonly name: string;
  readonly wave: number;
  readonly health: Health;
  /** Why it is not Healthy. */
  readonly reasons: string[];
  /** Objects ArgoCD skipped because argocd-cm excludes their kind. */
  readonly excluded: string[];
}

export interface BootstrapRun {
  readonly apps: AppResult[];
  /** The wave the root stopped at, or undefined when every wave became Healthy. */
  readonly stuckAt?: AppResult;
  /** Services without a selector whose endpoints ArgoCD never applied: nothing answers there. */
  readonly servicesWithoutEndpoints: string[];
}

/** `500m`, `2`, `8Gi`, `512Mi` -> cores or GiB. */
export function quantity(value: string | number | undefined): number {
  if (value === undefined) return 0;
  const text = String(value);
  const m = /^([0-9.]+)(m|Ki|Mi|Gi|Ti)?$/.exec(text);
  if (!m) throw new Error(`cannot read quantity ${text}`);
  const n = Number(m[1]);
  switch (m[2]) {
    case 'm':
      return n / 1000;
    case 'Ki':
      return n / 1024 / 1024;
    case 'Mi':
      return n / 1024;
    case 'Gi':
      return n;
    case 'Ti':
      return n * 1024;
    default:
      return n;
  }
}

export interface PodDemand {
  readonly cpuRequest: number;
  readonly cpuLimit: number;
  readonly memoryRequest: number;
  readonly memoryLimit: number;
  readonly gpus: number;
}

export function podDemand(podSpec: AnyObject): PodDemand {
  const sum = (pick: (c: AnyObject) => number) => (podSpec.containers as AnyObject[]).reduce((n, c) => n + pick(c), 0);
  return {
    cpuRequest: sum((c) => quantity(c.resources?.requests?.cpu)),
    cpuLimit: sum((c) => quantity(c.resources?.limits?.cpu)),
    memoryRequest: sum((c) => quantity(c.resources?.requests?.memory)),
    memoryLimit: sum((c) => quantity(c.resources?.limits?.memory)),
    gpus: sum((c) => Number(c.resources?.limits?.['nvidia.com/gpu'] ?? 0)),
  };
}

/** A namespace's ResourceQuota as numbers (requests.cpu, limits.cpu in cores; memory in GiB). */
export function quotaOf(tree: K3sTree, namespace: string): Record<string, number> | undefined {
  const quota = tree.find('ResourceQuota', namespace, 'zone-quota');
  if (!quota) return undefined;
  return Object.fromEntries(Object.entries(quota.spec.hard as Record<string, string>).map(([k, v]) => [k, quantity(v)]));
}

/** The quota resources a pod counts against (the ResourceQuota admission plugin's evaluator for pods). */
export function quotaUsage(d: PodDemand): Record<string, number> {
  return { 'requests.cpu': d.cpuRequest, 'limits.cpu': d.cpuLimit, 'requests.memory': d.memoryRequest, 'limits.memory': d.memoryLimit };
}

const EPSILON = 1e-6;

/** Objects of one Application: the files under its folder. */
function objectsOf(tree: K3sTree, app: AnyObject): Manifest[] | 'helm' {
  const source = app.spec.source;
  if (source.chart) return 'helm';
  const root = tree.platform.config.k3s.argocd.path;
  const prefix = `${source.path.slice(root.length + 1)}/`;
  if (!source.path.startsWith(`${root}/`)) {
    // A folder outside the rendered tree (k3s.sealedSecretsPath): what `create-secrets.sh seal` writes,
    // one SealedSecret per Secret the script makes.
    const script = tree.files.get('secrets/create-secrets.sh') ?? '';
    return [...script.matchAll(/^make_secret (\S+) (\S+) \S+$/gm)].map((m) => ({
      apiVersion: 'bitnami.com/v1alpha1',
      kind: 'SealedSecret',
      metadata: { namespace: m[1] as string, name: m[2] as string },
    }));
  }
  const objects: Manifest[] = [];
  for (const [path, content] of tree.files) {
    if (!path.startsWith(prefix) || !path.endsWith('.yaml')) continue;
    // One object per file, parsed once per text and frozen (manifestsOf): the simulation only reads
    // it, and a file a test changed is a new text. Anything but one document is refused, as `readYaml` refuses it.
    const parsed = manifestsOf(content);
    objects.push(parsed.length === 1 ? (parsed[0] as Manifest) : (readYaml(content) as Manifest));
  }
  return objects;
}

function group(apiVersion: string): string {
  return apiVersion.includes('/') ? (apiVersion.split('/')[0] as string) : '';
}

function worst(a: Health, b: Health): Health {
  return HEALTH_ORDER.indexOf(b) > HEALTH_ORDER.indexOf(a) ? b : a;
}

/** Run the bootstrap: every wave in order until one stays unhealthy. */
export function simulateBootstrap(tree: K3sTree): BootstrapRun {
  const { platform } = tree;
  const argocdNamespace = platform.config.k3s.argocd.namespace;
  const cm = tree.get('ConfigMap', argocdNamespace, 'argocd-cm');
  const exclusions: { apiGroups: string[]; kinds: string[] }[] = cm.data['resource.exclusions']
    ? readYaml(cm.data['resource.exclusions'])
    : ARGOCD_DEFAULT_EXCLUSIONS;
  const excluded = (o: Manifest) => exclusions.some((e) => e.apiGroups.includes(group(o.apiVersion)) && e.kinds.includes(o.kind));

  // What the cluster has before the root: k3s's built-ins and ArgoCD. Without sealing, the Secrets
  // too (`create-secrets.sh` runs before the root, as the README says); with sealing, a Secret exists
  // once its SealedSecret is applied and the controller (a Helm Application) runs to unseal it.
  const namespaces = new Set(['default', 'kube-system', 'kube-public', argocdNamespace]);
  const crds = new Set(['argoproj.io/Application']);
  const sealing = platform.config.k3s.sealedSecretsPath !== undefined;
  const secrets = new Set<string>();
  let sealedSecretsController = false;
  if (!sealing) {
    const script = tree.files.get('secrets/create-secrets.sh') ?? '';
    for (const m of script.matchAll(/^make_secret (\S+) (\S+) \S+$/gm)) secrets.add(`${m[1]}/${m[2]}`);
  }
  const quotaUsed = new Map<string, Record<string, number>>();
  const nodes = new Map(
    platform.deployedNodes.map((n) => [n.name, { cpu: n.cpus, memory: n.memoryGb, gpuSlots: 0, interfaces: new Set<string>() }]),
  );
  // The VLAN sub-interfaces each node's vlans.sh creates (run at boot, before k3s, as the README says).
  for (const [path, content] of tree.files) {
    const m = /^nodes\/([^/]+)\/vlans\.sh$/.exec(path);
    if (!m) continue;
    for (const line of content.matchAll(/^ensure_vlan (\S+) /gm)) nodes.get(m[1] as string)?.interfaces.add(line[1] as string);
  }
  const applied: Manifest[] = [];
  const nads = new Map<string, string>();
  let multusRunning = false;

  const children = tree
    .all('Application')
    .filter((a) => a.metadata.annotations?.['argocd.argoproj.io/sync-wave'] !== undefined)
    .map((a) => ({ app: a, wave: Number(a.metadata.annotations['argocd.argoproj.io/sync-wave']) }))
    .sort((a, b) => a.wave - b.wave || compareText(String(a.app.metadata.name), b.app.metadata.name));

  /** Admit a pod of `spec` in `namespace`: quota, node, GPU slots, Multus network. Returns why not. */
  const admit = (namespace: string, template: AnyObject, node: string | undefined): string | undefined => {
    const spec = template.spec;
    // kubelet: a container whose env reads a missing Secret stays in CreateContainerConfigError.
    for (const c of [...(spec.initContainers ?? []), ...spec.containers] as AnyObject[]) {
      for (const e of c.env ?? []) {
        const ref = e.valueFrom?.secretKeyRef;
        if (ref && !secrets.has(`${namespace}/${ref.name}`)) return `CreateContainerConfigError: secret "${ref.name}" not found`;
      }
    }
    const demand = podDemand(spec);
    const quota = quotaOf(tree, namespace);
    const used = quotaUsed.get(namespace) ?? { 'requests.cpu': 0, 'limits.cpu': 0, 'requests.memory': 0, 'limits.memory': 0 };
    const usage = quotaUsage(demand);
    if (quota) {
      for (const [key, value] of Object.entries(usage)) {
        if ((used[key] ?? 0) + value > (quota[key] ?? Infinity) + EPSILON) {
          return `exceeded quota zone-quota in ${namespace}: ${key} used ${round(used[key] ?? 0)} + ${round(value)} > ${round(quota[key] ?? 0)}`;
        }
      }
    }
    if (node) {
      const capacity = nodes.get(node);
      if (!capacity) return `no node ${node}`;
      if (demand.cpuRequest > capacity.cpu + EPSILON || demand.memoryRequest > capacity.memory + EPSILON) return `Insufficient cpu/memory on ${node}`;
      if (demand.gpus > capacity.gpuSlots) return `Insufficient nvidia.com/gpu on ${node} (${capacity.gpuSlots} free)`;
      const network = template.metadata?.annotations?.['k8s.v1.cni.cncf.io/networks'];
      if (network) {
        if (!multusRunning) return 'Multus is not running';
        const master = nads.get(`${namespace}/${network}`);
        if (!master) return `network-attachment-definitions "${network}" not found`;
        if (!capacity.interfaces.has(master)) return `macvlan: Link not found: ${master} on ${node}`;
      }
      capacity.cpu -= demand.cpuRequest;
      capacity.memory -= demand.memoryRequest;
      capacity.gpuSlots -= demand.gpus;
    }
    for (const [key, value] of Object.entries(usage)) used[key] = (used[key] ?? 0) + value;
    quotaUsed.set(namespace, used);
    return undefined;
  };

  const nodeOf = (spec: AnyObject): string | undefined => spec.nodeSelector?.['kubernetes.io/hostname'];
  const daemonNodes = (spec: AnyObject): string[] =>
    spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms?.[0]?.matchExpressions?.[0]?.values ?? [...nodes.keys()];

  const results: AppResult[] = [];
  const runningClaims = new Set<string>();
  for (const { app, wave } of children) {
    const name = app.metadata.name as string;
    const reasons: string[] = [];
    const skipped: string[] = [];
    let health: Health = 'Healthy';
    const objects = objectsOf(tree, app);
    if (objects === 'helm') {
      const values = app.spec.source.helm.valuesObject;
      if (app.spec.source.chart === 'rke2-multus') {
        // multus-cni v4.2.x cmd/thin_entrypoint/main.go: with no master CNI config in multusAutoconfigDir
        // (default /etc/cni/net.d) it exits "cannot find valid master CNI config"; the DaemonSet never becomes available.
        const dir = values.config?.cni_conf?.multusAutoconfigDir ?? '/etc/cni/net.d';
        if (dir !== K3S_CNI_CONF_DIR || values.config?.cni_conf?.confDir !== K3S_CNI_CONF_DIR) {
          health = 'Progressing';
          reasons.push(`DaemonSet multus: thin entrypoint "cannot find valid master CNI config" in ${dir}`);
        } else {
          multusRunning = true;
          crds.add('k8s.cni.cncf.io/NetworkAttachmentDefinition');
        }
      } else if (app.spec.source.chart === 'sealed-secrets') {
        // The chart's crds/ holds the SealedSecret CRD; kubeseal finds the controller by its default name.
        crds.add('bitnami.com/SealedSecret');
        if (values?.fullnameOverride === 'sealed-secrets-controller' && app.spec.destination.namespace === 'kube-system') sealedSecretsController = true;
        else {
          health = 'Degraded';
          reasons.push('the controller is not kube-system/sealed-secrets-controller, where kubeseal looks for it');
        }
      } else if (app.spec.source.chart === 'nvidia-device-plugin') {
        // The device plugin advertises gpus x replicas slots per node: its config by node label, else the default.
        const readme = tree.files.get('README.md') ?? '';
        for (const node of platform.deployedNodes.filter((n) => n.hasGpu)) {
          const label = new RegExp(`kubectl label node ${node.name} nvidia\\.com/device-plugin\\.config=(\\S+)`).exec(readme)?.[1];
          const config = readYaml(values.config.map[label ?? values.config.default]);
          const replicas = config.sharing?.timeSlicing?.resources?.[0]?.replicas ?? 1;
          const entry = nodes.get(node.name);
          if (entry) entry.gpuSlots = node.gpus.length * replicas;
        }
      }
      results.push({ name, wave, health, reasons, excluded: skipped });
      if (health !== 'Healthy') return { apps: results, stuckAt: results[results.length - 1], servicesWithoutEndpoints: [] };
      continue;
    }

    // Dry run (ServerSideApply=true, CreateNamespace=true for the destination namespace).
    const destination = app.spec.destination.namespace as string;
    const toApply = objects.filter((o) => {
      if (!excluded(o)) return true;
      skipped.push(`${o.kind} ${o.metadata.namespace}/${o.metadata.name}`);
      return false;
    });
    const dryRun: string[] = [];
    const willExist = new Set([...namespaces, destination, ...toApply.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name)]);
    for (const o of toApply) {
      for (const problem of apiServerProblems(o)) dryRun.push(`${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}: ${problem}`);
      const kind = `${group(o.apiVersion)}/${o.kind}`;
      if (group(o.apiVersion) !== '' && !/\.k8s\.io$|^apps$|^batch$|^autoscaling$|^policy$/.test(group(o.apiVersion)) && !crds.has(kind)) {
        dryRun.push(`${o.kind} ${o.metadata.name}: the server could not find the requested resource (no CRD for ${kind})`);
      }
      if (o.metadata.namespace && !willExist.has(o.metadata.namespace)) dryRun.push(`${o.kind} ${o.metadata.name}: namespaces "${o.metadata.namespace}" not found`);
    }
    if (dryRun.length > 0) {
      results.push({ name, wave, health: 'Missing', reasons: dryRun, excluded: skipped });
      return { apps: results, stuckAt: results[results.length - 1], servicesWithoutEndpoints: [] };
    }
    for (const ns of willExist) namespaces.add(ns);
    for (const o of toApply) {
      if (o.kind === 'SealedSecret' && sealedSecretsController) secrets.add(`${o.metadata.namespace}/${o.metadata.name}`);
      if (o.kind === 'NetworkAttachmentDefinition') nads.set(`${o.metadata.namespace}/${o.metadata.name}`, JSON.parse((o as AnyObject).spec.config).master);
      applied.push(o);
    }

    // Health of each object; hooks (PostSync Jobs) are not part of it and run once the app is Healthy.
    const hooks: AnyObject[] = [];
    const consider = (h: Health, why?: string) => {
      health = worst(health, h);
      if (why && h !== 'Healthy') reasons.push(why);
    };
    for (const o of toApply as AnyObject[]) {
      const id = `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`;
      if (o.metadata.annotations?.['argocd.argoproj.io/hook']) {
        hooks.push(o);
        continue;
      }
      switch (o.kind) {
        case 'Deployment':
        case 'StatefulSet': {
          // health_deployment.go: Progressing while availableReplicas < updatedReplicas;
          // health_statefulset.go: Progressing while readyReplicas < spec.replicas.
          const replicas = o.spec.replicas ?? (o.kind === 'Deployment' ? 1 : 1);
          for (let i = 0; i < replicas; i++) {
            const why = admit(o.metadata.namespace, o.spec.template, nodeOf(o.spec.template.spec));
            if (why) {
              consider('Progressing', `${id}: pod ${i + 1}/${replicas} not running: ${why}`);
              break;
            }
            for (const v of o.spec.template.spec.volumes ?? []) if (v.persistentVolumeClaim) runningClaims.add(`${o.metadata.namespace}/${v.persistentVolumeClaim.claimName}`);
          }
          break;
        }
        case 'DaemonSet':
          // health_daemonset.go: Progressing while numberAvailable < desiredNumberScheduled.
          for (const node of daemonNodes(o.spec.template.spec)) {
            const why = admit(o.metadata.namespace, o.spec.template, node);
            if (why) {
              consider('Progressing', `${id}: pod on ${node} not running: ${why}`);
              break;
            }
          }
          break;
        case 'SealedSecret':
          // argo-cd resource_customizations/bitnami.com/SealedSecret/health.lua: Progressing until the
          // controller reports Synced (it unsealed the Secret).
          if (!sealedSecretsController) consider('Progressing', `${id}: no sealed-secrets controller has unsealed it`);
          break;
        case 'Service':
          // health_service.go: a LoadBalancer is Progressing until it has an ingress; k3s ServiceLB assigns the node addresses.
          break;
        case 'HorizontalPodAutoscaler':
          // health_hpa.go: Healthy once ScalingActive; k3s ships metrics-server, and the target must exist.
          if (!toApply.some((t) => t.kind === 'Deployment' && t.metadata.name === o.spec.scaleTargetRef.name)) consider('Degraded', `${id}: target missing`);
          break;
        default:
          break;
      }
    }
    for (const o of toApply as AnyObject[]) {
      if (o.kind !== 'PersistentVolumeClaim') continue;
      // health_pvc.go: Pending -> Progressing. local-path binds on the first consumer (WaitForFirstConsumer).
      const key = `${o.metadata.namespace}/${o.metadata.name}`;
      const waitsForConsumer = (o.spec.storageClassName ?? 'local-path') === 'local-path';
      if (waitsForConsumer && !runningClaims.has(key)) consider('Progressing', `PersistentVolumeClaim ${key}: Pending (no running pod uses it)`);
    }
    if (health === 'Healthy') {
      for (const job of hooks) {
        // health_job.go: a hook Job that fails fails the sync; its pod must be admitted like any other.
        const why = admit(job.metadata.namespace, job.spec.template, nodeOf(job.spec.template.spec));
        if (why) consider('Degraded', `Job ${job.metadata.namespace}/${job.metadata.name} (PostSync hook): ${why}`);
      }
    }
    results.push({ name, wave, health, reasons, excluded: skipped });
    if (health !== 'Healthy') return { apps: results, stuckAt: results[results.length - 1], servicesWithoutEndpoints: [] };
  }

  const servicesWithoutEndpoints = applied
    .filter((o) => o.kind === 'Service' && !(o as AnyObject).spec.selector)
    .filter((s) => !applied.some((e) => e.kind === 'EndpointSlice' && (e as AnyObject).metadata.labels?.['kubernetes.io/service-name'] === s.metadata.name && e.metadata.namespace === s.metadata.namespace))
    .map((s) => `${s.metadata.namespace}/${s.metadata.name}`);
  return { apps: results, servicesWithoutEndpoints };
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
