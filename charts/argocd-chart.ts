import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import * as k8s from './k8s.js';
import { AMD_GPU_RESOURCE, GPU_PRESENT_LABEL, GPU_RESOURCE, SEALED_SECRETS_CONTROLLER, SYNC_WAVE } from '../lib/k3s/names.js';
import { stackWaves } from '../lib/k3s/waves.js';
import { backupJobNamespace } from '../lib/services/backup.js';
import { toYaml } from '../lib/output/yaml.js';
import type { K3sContext } from './context.js';
import { OutputChart, type Manifest } from './output-chart.js';
import { compareText } from '../lib/output/order.js';

/** Pinned Helm charts of the platform pieces (the NVIDIA device plugin needs 0.17+ for `runtimeClassName` on k3s; rke2-multus takes k3s's CNI paths). */
export const HELM_CHARTS = {
  nvidiaDevicePlugin: { repoURL: 'https://nvidia.github.io/k8s-device-plugin', chart: 'nvidia-device-plugin', version: '0.17.1' },
  multus: { repoURL: 'https://rke2-charts.rancher.io', chart: 'rke2-multus', version: 'v4.2.401' },
  /** The controller that unseals SealedSecrets (app 0.36.6); it also installs the SealedSecret CRD (the chart's crds/). */
  sealedSecrets: { repoURL: 'https://bitnami-labs.github.io/sealed-secrets', chart: 'sealed-secrets', version: '2.18.5' },
  /**
   * AMD's device plugin (ROCm/k8s-device-plugin, helm/amd-gpu: chart 0.22.0, app 1.31.0.9), from the
   * chart repository its README names (`helm repo add amd-gpu-helm https://rocm.github.io/k8s-device-plugin/`).
   */
  amdDevicePlugin: { repoURL: 'https://rocm.github.io/k8s-device-plugin/', chart: 'amd-gpu', version: '0.22.0' },
} as const;

/**
 * Values of the amd-gpu chart: its DaemonSet tolerating the AMD nodes' taint. The chart's node
 * selector stays off (`node_selector_enabled: false`, its default): the selector it ships is a
 * PCI label only node-feature-discovery sets, and a null cannot remove it through an
 * Application's values. On a node without AMD GPUs the plugin advertises none. AMD's plugin cannot
 * time-slice: each `amd.com/gpu` is one whole GPU.
 */
export function amdDevicePluginValues(): Record<string, unknown> {
  return {
    tolerations: [
      { key: 'CriticalAddonsOnly', operator: 'Exists' },
      { key: AMD_GPU_RESOURCE, operator: 'Exists', effect: 'NoSchedule' },
    ],
  };
}

/** Waves of the platform pieces; stacks start at 0. */
export const PLATFORM_WAVES = { namespaces: -4, sealedSecretsController: -4, cni: -3, gpu: -3, vlans: -2, secrets: -2, networkPolicies: -1 } as const;

/** The Lua health check that makes a parent Application wait for its children (removed from ArgoCD in 1.8). */
export const APPLICATION_HEALTH_LUA = `hs = {}
hs.status = "Progressing"
hs.message = ""
if obj.status ~= nil then
  if obj.status.health ~= nil then
    hs.status = obj.status.health.status
    if obj.status.health.message ~= nil then
      hs.message = obj.status.health.message
    end
  end
end
return hs
`;

/**
 * Where k3s keeps CNI configs and binaries. rke2-multus >= v4.2.202 runs the thin entrypoint, which
 * reads the primary CNI config from `multusAutoconfigDir` (default `/etc/cni/net.d`, empty on k3s:
 * it then exits "cannot find valid master CNI config"), so that directory is k3s's too. k3s
 * documents these values under "Using Multus" (docs.k3s.io/networking/multus-ipams).
 */
export const K3S_CNI = {
  confDir: '/var/lib/rancher/k3s/agent/etc/cni/net.d',
  binDir: '/var/lib/rancher/k3s/data/cni/',
} as const;

/**
 * Retry of every Application's sync: a failed sync (a dry run the API server refuses, a model
 * download hook that exhausts its backoff) is tried again for the same commit instead of waiting
 * for the next one. A negative limit retries without end (argo-cd v3.5.1
 * controller/appcontroller.go: `RetryCount < Retry.Limit || Retry.Limit < 0`), backing off to at most 10 minutes.
 */
export const SYNC_RETRY = { limit: -1, backoff: { duration: '30s', factor: 2, maxDuration: '10m' } } as const;

/**
 * ArgoCD's default `resource.exclusions` (argo-cd v3.5.1 manifests/base/config/argocd-cm.yaml)
 * without `discovery.k8s.io/EndpointSlice`. 3.x excludes Endpoints and EndpointSlices from
 * management, so a hand-written EndpointSlice (gpu-over-lan: the Services of the workstation) would
 * be skipped with only a warning and its Service would have no endpoints. Endpoints stay excluded;
 * the upstream `ignoreResourceUpdates` for EndpointSlice (in the same default argocd-cm) keeps
 * the controller-made slices from generating churn. Rendered for every platform, so the key's owner
 * never changes with the config. The install manifest's value is taken over: ArgoCD's server-side
 * apply forces conflicts (gitops-engine/pkg/utils/kube/resource_ops.go: `ForceConflicts = serverSideApply`).
 */
export const RESOURCE_EXCLUSIONS: readonly { apiGroups: string[]; kinds: string[] }[] = [
  { apiGroups: [''], kinds: ['Endpoints'] },
  { apiGroups: ['coordination.k8s.io'], kinds: ['Lease'] },
  {
    apiGroups: ['authentication.k8s.io', 'authorization.k8s.io'],
    kinds: ['SelfSubjectReview', 'TokenReview', 'LocalSubjectAccessReview', 'SelfSubjectAccessReview', 'SelfSubjectRulesReview', 'SubjectAccessReview'],
  },
  { apiGroups: ['certificates.k8s.io'], kinds: ['CertificateSigningRequest'] },
  { apiGroups: ['cert-manager.io'], kinds: ['CertificateRequest'] },
  { apiGroups: ['cilium.io'], kinds: ['CiliumIdentity', 'CiliumEndpoint', 'CiliumEndpointSlice'] },
  {
    apiGroups: ['kyverno.io', 'reports.kyverno.io', 'wgpolicyk8s.io'],
    kinds: [
      'PolicyReport',
      'ClusterPolicyReport',
      'EphemeralReport',
      'ClusterEphemeralReport',
      'AdmissionReport',
      'ClusterAdmissionReport',
      'BackgroundScanReport',
      'ClusterBackgroundScanReport',
      'UpdateRequest',
    ],
  },
];

/** Finalizer that makes deleting an Application delete what it deployed (objects marked `Delete=false` stay). */
export const RESOURCES_FINALIZER = 'resources-finalizer.argocd.argoproj.io';

/** A child Application: what it syncs and where. */
export interface ChildApp {
  readonly name: string;
  readonly wave: number;
  /** Namespace the Application deploys to by default (objects name their own). */
  readonly namespace: string;
  /** A folder of the k3s output, or a Helm chart. */
  readonly source: { readonly folder: string } | { readonly helm: { readonly repoURL: string; readonly chart: string; readonly version: string; readonly releaseName: string; readonly values: Record<string, unknown> } } | { readonly repoPath: string };
}

/** The time-slicing config of the device plugin, one named config per distinct replica count. */
export function devicePluginValues(context: K3sContext): { values: Record<string, unknown>; nodeConfigs: Map<string, string> } {
  const configs: Record<string, string> = { 'no-sharing': toYaml({ version: 'v1' }) };
  const nodeConfigs = new Map<string, string>();
  for (const s of context.gpuSharing.filter((g) => g.node.gpuVendor === 'nvidia')) {
    if (s.replicas <= 1) {
      nodeConfigs.set(s.node.name, 'no-sharing');
      continue;
    }
    const name = `time-slicing-${s.replicas}`;
    configs[name] = toYaml({
      version: 'v1',
      sharing: { timeSlicing: { failRequestsGreaterThanOne: true, resources: [{ name: GPU_RESOURCE, replicas: s.replicas }] } },
    });
    nodeConfigs.set(s.node.name, name);
  }
  const first = context.gpuSharing.find((g) => g.node.gpuVendor === 'nvidia');
  const defaultConfig = first ? (nodeConfigs.get(first.node.name) as string) : 'no-sharing';
  return {
    values: {
      runtimeClassName: 'nvidia',
      nodeSelector: { [GPU_PRESENT_LABEL]: 'true' },
      tolerations: [{ key: GPU_RESOURCE, operator: 'Exists', effect: 'NoSchedule' }],
      config: { map: Object.fromEntries(Object.entries(configs).sort(([a], [b]) => compareText(a, b))), default: defaultConfig },
    },
    nodeConfigs,
  };
}

/** Every child Application, platform pieces first, then one per stack in wave order. */
export function childApps(context: K3sContext): ChildApp[] {
  const { platform } = context;
  const apps: ChildApp[] = [{ name: 'namespaces', wave: PLATFORM_WAVES.namespaces, namespace: 'kube-system', source: { folder: 'apps/namespaces' } }];
  const sealed = platform.config.k3s.sealedSecretsPath;
  if (sealed) {
    // The controller comes in the first wave: the SealedSecrets (wave `secrets`) need its CRD, and
    // every pod that reads a Secret waits for the Secret it unseals.
    apps.push({
      name: SEALED_SECRETS_CONTROLLER.name,
      wave: PLATFORM_WAVES.sealedSecretsController,
      namespace: SEALED_SECRETS_CONTROLLER.namespace,
      source: { helm: { ...HELM_CHARTS.sealedSecrets, releaseName: 'sealed-secrets', values: { fullnameOverride: SEALED_SECRETS_CONTROLLER.name } } },
    });
  }
  if ([...platform.zones.values()].some((z) => z.multus)) {
    apps.push({
      name: 'multus',
      wave: PLATFORM_WAVES.cni,
      namespace: 'kube-system',
      source: {
        helm: {
          ...HELM_CHARTS.multus,
          releaseName: 'multus',
          values: {
            config: {
              fullnameOverride: 'multus',
              cni_conf: { ...K3S_CNI, kubeconfig: `${K3S_CNI.confDir}/multus.d/multus.kubeconfig`, multusAutoconfigDir: K3S_CNI.confDir },
            },
            'rke2-whereabouts': { enabled: true, fullnameOverride: 'whereabouts', cniConf: K3S_CNI },
          },
        },
      },
    });
    apps.push({ name: 'vlans', wave: PLATFORM_WAVES.vlans, namespace: 'kube-system', source: { folder: 'apps/vlans' } });
  }
  if (context.gpuSharing.some((g) => g.node.gpuVendor === 'nvidia')) {
    apps.push({
      name: 'nvidia-device-plugin',
      wave: PLATFORM_WAVES.gpu,
      namespace: 'kube-system',
      source: { helm: { ...HELM_CHARTS.nvidiaDevicePlugin, releaseName: 'nvidia-device-plugin', values: devicePluginValues(context).values } },
    });
  }
  if (context.gpuSharing.some((g) => g.node.gpuVendor === 'amd')) {
    apps.push({
      name: 'amd-gpu-device-plugin',
      wave: PLATFORM_WAVES.gpu,
      namespace: 'kube-system',
      source: { helm: { ...HELM_CHARTS.amdDevicePlugin, releaseName: 'amd-gpu', values: amdDevicePluginValues() } },
    });
  }
  if (sealed) apps.push({ name: 'sealed-secrets', wave: PLATFORM_WAVES.secrets, namespace: 'kube-system', source: { repoPath: sealed } });
  apps.push({ name: 'network-policies', wave: PLATFORM_WAVES.networkPolicies, namespace: 'kube-system', source: { folder: 'apps/network-policies' } });
  const waves = stackWaves(platform);
  const stacks = platform.stacks
    .filter((s) => s.services.length > 0)
    .map((s) => ({ stack: s, wave: waves.get(s) ?? 0 }))
    .sort((a, b) => a.wave - b.wave);
  for (const { stack, wave } of stacks) {
    const home = stack.services[0]?.zone.namespace ?? 'default';
    apps.push({ name: stack.name, wave, namespace: home, source: { folder: `apps/${stack.name}` } });
  }
  // The backup jobs mount the stacks' claims and dump Postgres: after every stack.
  const backupNamespace = backupJobNamespace(platform);
  if (backupNamespace) apps.push({ name: 'backup', wave: Math.max(0, ...stacks.map((s) => s.wave)) + 1, namespace: backupNamespace, source: { folder: 'apps/backup' } });
  return apps;
}

/**
 * ArgoCD: the root app-of-apps (which also keeps itself and the health check in sync), one child
 * Application per stack and platform piece, and the `argocd-cm` health customization that makes
 * the root wait for each wave's children to be healthy before the next.
 */
export class ArgoCdChart extends OutputChart {
  private readonly files = new Map<ApiObject, string>();

  constructor(scope: Construct, context: K3sContext) {
    super(scope, 'argocd', { folder: 'argocd' });
    const { argocd } = context.platform.config.k3s;
    const syncPolicy = {
      automated: { prune: true, selfHeal: true },
      syncOptions: ['CreateNamespace=true', 'ServerSideApply=true'],
      retry: SYNC_RETRY,
    };
    const application = (id: string, file: string, name: string, wave: number | undefined, cascade: boolean, spec: Record<string, unknown>) => {
      const obj = new ApiObject(this, id, {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Application',
        metadata: {
          name,
          namespace: argocd.namespace,
          annotations: wave === undefined ? undefined : { [SYNC_WAVE]: String(wave) },
          finalizers: cascade ? [RESOURCES_FINALIZER] : undefined,
        },
        spec: { project: argocd.project, ...spec, syncPolicy },
      });
      this.files.set(obj, file);
    };

    // The root has no finalizer: deleting it must not take every stack with it.
    application('root', 'root.yaml', 'platform', undefined, false, {
      source: { repoURL: argocd.repoURL, targetRevision: argocd.targetRevision, path: `${argocd.path}/argocd`, directory: { recurse: true } },
      destination: { server: 'https://kubernetes.default.svc', namespace: argocd.namespace },
    });

    for (const app of childApps(context)) {
      let source: Record<string, unknown>;
      if ('folder' in app.source) {
        source = { repoURL: argocd.repoURL, targetRevision: argocd.targetRevision, path: `${argocd.path}/${app.source.folder}`, directory: { recurse: true } };
      } else if ('repoPath' in app.source) {
        source = { repoURL: argocd.repoURL, targetRevision: argocd.targetRevision, path: app.source.repoPath, directory: { recurse: true } };
      } else {
        const helm = app.source.helm;
        source = { repoURL: helm.repoURL, chart: helm.chart, targetRevision: helm.version, helm: { releaseName: helm.releaseName, valuesObject: helm.values } };
      }
      // Every child cascades, platform pieces too (pruning `multus` must not leave its DaemonSet and
      // NetworkAttachmentDefinitions behind); namespaces and claims are `Delete=false` and stay.
      application(`app-${app.name}`, `apps/${app.name}.yaml`, app.name, app.wave, true, {
        source,
        destination: { server: 'https://kubernetes.default.svc', namespace: app.namespace },
      });
    }

    const cm = new k8s.KubeConfigMap(this, 'argocd-cm', {
      metadata: {
        name: 'argocd-cm',
        namespace: argocd.namespace,
        labels: { 'app.kubernetes.io/name': 'argocd-cm', 'app.kubernetes.io/part-of': 'argocd' },
        // Before any child, so the root already waits on the first wave. Server-side apply owns only these keys.
        annotations: { [SYNC_WAVE]: String(PLATFORM_WAVES.namespaces - 1) },
      },
      data: {
        'resource.customizations.health.argoproj.io_Application': APPLICATION_HEALTH_LUA,
        'resource.exclusions': toYaml(RESOURCE_EXCLUSIONS),
      },
    });
    this.files.set(cm, 'argocd-cm.yaml');
  }

  override fileName(manifest: Manifest): string {
    for (const [obj, file] of this.files) {
      if (obj.kind === manifest.kind && obj.name === manifest.metadata.name) return file;
    }
    return super.fileName(manifest);
  }
}
