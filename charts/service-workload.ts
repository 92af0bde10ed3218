import { createHash } from 'node:crypto';
import { Construct } from 'constructs';
import * as k8s from '../lib/k3s/k8s.js';
import {
  GPU_PRESENT_LABEL,
  GPU_RESOURCE,
  GPU_RUNTIME_CLASS,
  gpuKeys,
  HOSTNAME_LABEL,
  podLabels,
  secretObjectName,
  selectorLabels,
} from '../lib/k3s/names.js';
import { K3sResolver } from '../lib/k3s/resolver.js';
import { cpuQuantity, memoryQuantity, podResources } from '../lib/k3s/resources.js';
import { Secret } from '../lib/model/secret.js';
import { HOST_NETWORK_ADDRESS_ENV, type HealthCheckSpec, type PortSpec, type Service, type VolumeSpec } from '../lib/model/service.js';
import { inImageCheck } from '../lib/model/health.js';
import { EnvTemplate, escapeDollars, type EnvValue } from '../lib/model/values.js';
import { podDiscoveryNamespaces, type K3sContext } from './context.js';
import { multusNetworkName } from './vlans.js';

/** The workload kinds a service becomes. */
export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'Job';

/** Capabilities an entrypoint needs to prepare its volumes and drop to its own user (postgres, valkey, minio…). */
const ENTRYPOINT_CAPABILITIES = ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'SETGID', 'SETUID'];
/** Toleration of the GPU nodes' taint (`nvidia.com/gpu=present:NoSchedule`, the conventional taint of dedicated GPU nodes). */
export const GPU_TOLERATION = { key: GPU_RESOURCE, operator: 'Equal', value: 'present', effect: 'NoSchedule' } as const;

/** The toleration of the taint of a vendor's GPU nodes (`amd.com/gpu=present:NoSchedule` on AMD ones). */
export function gpuToleration(vendor: 'nvidia' | 'amd'): { key: string; operator: 'Equal'; value: 'present'; effect: 'NoSchedule' } {
  return { ...GPU_TOLERATION, key: gpuKeys(vendor).resource };
}
/** Where a DaemonSet keeps per-node data (a ReadWriteOnce claim cannot follow it to every node). */
const NODE_DATA_ROOT = '/var/lib/platform';
/** Annotation that rolls the pods when a rendered config changes (subPath mounts are never refreshed). */
export const CONFIG_CHECKSUM = 'checksum/config';

/**
 * Deployment for stateless services and for the edge (entry ports) and scaled ones, StatefulSet
 * for services that own their data, DaemonSet for per-node services, Job for one-shots.
 */
export function workloadKind(service: Service): WorkloadKind {
  if (service.oneShot) return 'Job';
  if (service.perNode) return 'DaemonSet';
  const ownsData = service.volumesFor('k3s').some((v) => !('hostPath' in v));
  const entry = service.ports.some((p) => p.entry);
  return ownsData && !entry && !service.scaling ? 'StatefulSet' : 'Deployment';
}

/**
 * A StatefulSet whose volumeClaimTemplates carry `apiVersion: v1` and `kind: PersistentVolumeClaim`,
 * as the API server returns them (the typed props have no place for either). Without them
 * server-side apply finds a difference on every comparison and the StatefulSet never leaves
 * OutOfSync.
 */
class StatefulSetWithTypedClaims extends k8s.KubeStatefulSet {
  override toJson(): any {
    const json = super.toJson();
    const templates = json.spec?.volumeClaimTemplates as Record<string, unknown>[] | undefined;
    if (templates) json.spec.volumeClaimTemplates = templates.map((t) => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', ...t }));
    return json;
  }
}

/** How a Deployment replaces its pods: Recreate when a ReadWriteOnce claim cannot be mounted twice. */
export function deploymentStrategy(service: Service): 'Recreate' | 'RollingUpdate' {
  const usesClaims = service.volumesFor('k3s').some((v) => !('hostPath' in v));
  return usesClaims && !service.scaling ? 'Recreate' : 'RollingUpdate';
}

/**
 * Extra pods a rolling update runs beside the old ones: a RollingUpdate Deployment surges by its
 * default maxSurge of 25%, rounded up (kubernetes pkg/controller/deployment/util/deployment_util.go,
 * ResolveFenceposts), so one pod at 1-4 replicas. Recreate stops the old pods first; a StatefulSet
 * replaces one pod at a time and a DaemonSet's default maxSurge is 0; a hook Job is deleted before
 * it is created again (BeforeHookCreation).
 */
export function rolloutSurgePods(service: Service): number {
  if (workloadKind(service) !== 'Deployment' || deploymentStrategy(service) === 'Recreate') return 0;
  const replicas = service.scaling?.maxReplicas ?? 1;
  return Math.ceil(replicas * 0.25);
}

export interface ServiceWorkloadProps {
  readonly context: K3sContext;
  /** Data volume names used by more than one service of the namespace: one shared claim each. */
  readonly sharedVolumes: ReadonlySet<string>;
}

type DataVolume = Extract<VolumeSpec, { name: string }>;

/**
 * Everything one service becomes on k3s: its workload, Service (and LoadBalancer for entry
 * ports), ConfigMap, claims, autoscaler and API access. Secrets are referenced by name only.
 */
export class ServiceWorkload extends Construct {
  readonly kind: WorkloadKind;

  constructor(scope: Construct, private readonly service: Service, private readonly props: ServiceWorkloadProps) {
    super(scope, service.name);
    this.kind = workloadKind(service);
    const namespace = service.zone.namespace;
    const configData = this.renderConfigFiles();
    if (Object.keys(configData).length > 0) {
      new k8s.KubeConfigMap(this, 'config', { metadata: this.meta(`${service.name}-config`), data: configData });
    }
    this.renderClaims();
    const template = this.podTemplate(configData);
    const replicas = service.profile ? 0 : undefined;
    const selector = { matchLabels: selectorLabels(service) };
    switch (this.kind) {
      case 'Deployment': {
        new k8s.KubeDeployment(this, 'workload', {
          metadata: this.meta(service.name),
          spec: {
            // An autoscaled Deployment leaves replicas to the HPA, or ArgoCD and the HPA fight over it.
            replicas: service.scaling ? undefined : (replicas ?? 1),
            selector,
            // A ReadWriteOnce claim cannot be mounted by the old and the new pod at once on different nodes.
            strategy: deploymentStrategy(service) === 'Recreate' ? { type: 'Recreate' } : undefined,
            template,
          },
        });
        break;
      }
      case 'StatefulSet': {
        const claims = this.ownVolumes();
        new StatefulSetWithTypedClaims(this, 'workload', {
          metadata: this.meta(service.name),
          spec: {
            serviceName: service.name,
            replicas: replicas ?? 1,
            selector,
            template,
            volumeClaimTemplates: claims.map((v) => ({
              metadata: { name: v.name, labels: podLabels(service) },
              spec: this.claimSpec(v),
            })),
          },
        });
        break;
      }
      case 'DaemonSet':
        new k8s.KubeDaemonSet(this, 'workload', { metadata: this.meta(service.name), spec: { selector, template } });
        break;
      case 'Job':
        new k8s.KubeJob(this, 'workload', {
          metadata: {
            ...this.meta(service.name),
            annotations: {
              // Runs after the rest of its Application is healthy (Ollama up before the pull), on every
              // sync; the pulls are idempotent.
              'argocd.argoproj.io/hook': 'PostSync',
              'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation',
            },
          },
          spec: { backoffLimit: 4, template: { ...template, spec: { ...template.spec, restartPolicy: 'OnFailure' } as k8s.PodSpec } },
        });
        break;
    }
    this.renderServices(namespace);
    if (service.scaling) {
      new k8s.KubeHorizontalPodAutoscalerV2(this, 'hpa', {
        metadata: this.meta(service.name),
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: service.name },
          minReplicas: service.scaling.minReplicas,
          maxReplicas: service.scaling.maxReplicas,
          metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: service.scaling.cpuPercent } } }],
          // Scale up within 15 s, down only after 5 minutes of calm: no flapping on bursty chat load.
          behavior: {
            scaleUp: { stabilizationWindowSeconds: 15 },
            scaleDown: { stabilizationWindowSeconds: 300 },
          },
        },
      });
    }
    this.renderApiAccess();
  }

  private meta(name: string): k8s.ObjectMeta {
    return { name, namespace: this.service.zone.namespace, labels: podLabels(this.service) };
  }

  /** Config files keyed for a ConfigMap (`rules/alerts.yml` -> `rules_alerts.yml`). */
  private renderConfigFiles(): Record<string, string> {
    const node = this.service.nodes[0];
    if (!node) return {};
    const resolver = new K3sResolver(this.service, node);
    const data: Record<string, string> = {};
    for (const file of this.service.configFiles) data[configKey(file.name)] = file.content(resolver);
    return data;
  }

  private dataVolumes(): DataVolume[] {
    return this.service.volumesFor('k3s').filter((v): v is DataVolume => !('hostPath' in v));
  }

  /** Volumes a StatefulSet claims per pod; shared ones become standalone claims. */
  private ownVolumes(): DataVolume[] {
    if (this.kind !== 'StatefulSet') return [];
    return this.dataVolumes().filter((v) => !this.props.sharedVolumes.has(v.name));
  }

  private claimSpec(volume: DataVolume): k8s.PersistentVolumeClaimSpec {
    return {
      accessModes: ['ReadWriteOnce'],
      storageClassName: this.props.context.platform.config.k3s.storageClass,
      resources: { requests: { storage: k8s.Quantity.fromString(`${volume.sizeGb ?? 10}Gi`) } },
    };
  }

  /** Standalone claims: for Deployments and Jobs, and volumes shared within the namespace. */
  private renderClaims(): void {
    if (this.kind === 'DaemonSet') return;
    const own = new Set(this.ownVolumes().map((v) => v.name));
    for (const volume of this.dataVolumes()) {
      if (own.has(volume.name)) continue;
      // A shared claim is declared by every user with the same spec; the stack chart keeps one.
      const scope = this.node.scope as Construct;
      const id = `claim-${this.service.zone.namespace}-${volume.name}`;
      if (scope.node.tryFindChild(id)) continue;
      new k8s.KubePersistentVolumeClaim(scope, id, {
        metadata: {
          name: volume.name,
          namespace: this.service.zone.namespace,
          labels: { ...podLabels(this.service) },
          // Deleting the stack must never delete the data.
          annotations: { 'argocd.argoproj.io/sync-options': 'Delete=false' },
        },
        spec: this.claimSpec(volume),
      });
    }
  }

  private podTemplate(configData: Record<string, string>): k8s.PodTemplateSpec {
    const { service } = this;
    const annotations: Record<string, string> = {};
    if (Object.keys(configData).length > 0) annotations[CONFIG_CHECKSUM] = checksum(configData);
    if (service.zone.multus) annotations['k8s.v1.cni.cncf.io/networks'] = multusNetworkName(service.zone);
    const gpuVendors = [...new Set(service.nodes.flatMap((n) => (n.gpuVendor ? [n.gpuVendor] : [])))].sort().reverse();
    const usesGpu = service.gpu !== undefined || service.gpuTelemetry;
    const security = service.security;
    const nonRoot = service.runAsUid;
    const needsApi = podDiscoveryNamespaces(service).length > 0;
    return {
      metadata: { labels: podLabels(service), annotations: Object.keys(annotations).length > 0 ? annotations : undefined },
      spec: {
        ...this.placement(),
        tolerations: gpuVendors.length > 0 ? gpuVendors.map(gpuToleration) : undefined,
        runtimeClassName: usesGpu && gpuVendors.includes('nvidia') ? GPU_RUNTIME_CLASS : undefined,
        hostPid: security.hostPid ? true : undefined,
        hostNetwork: security.hostNetwork ? true : undefined,
        // Cluster DNS names still resolve from the host's network namespace.
        dnsPolicy: security.hostNetwork ? 'ClusterFirstWithHostNet' : undefined,
        // Service links would put OLLAMA_PORT=tcp://… into every pod of the namespace; Ollama reads that name.
        enableServiceLinks: false,
        automountServiceAccountToken: needsApi,
        serviceAccountName: needsApi ? service.name : undefined,
        securityContext:
          nonRoot !== undefined ? { runAsNonRoot: true, runAsUser: nonRoot, runAsGroup: nonRoot, fsGroup: nonRoot } : undefined,
        containers: [this.container()],
        volumes: this.podVolumes(Object.keys(configData).length > 0),
      },
    };
  }

  /** On its node by host name; GPU services also by the GPU label; per-node services on each of their nodes. */
  private placement(): Pick<k8s.PodSpec, 'nodeSelector' | 'affinity'> {
    const { service } = this;
    if (service.perNode) {
      return {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchExpressions: [{ key: HOSTNAME_LABEL, operator: 'In', values: service.nodes.map((n) => n.name) }] }],
            },
          },
        },
      };
    }
    const selector: Record<string, string> = { [HOSTNAME_LABEL]: service.homeNode.name };
    const vendor = service.homeNode.gpuVendor;
    if (service.gpu && vendor) selector[gpuKeys(vendor).label] = 'true';
    return { nodeSelector: selector };
  }

  private container(): k8s.Container {
    const { service } = this;
    const { platform } = this.props.context;
    const resources = podResources(service.resources);
    const limits: Record<string, k8s.Quantity> = {
      cpu: k8s.Quantity.fromString(cpuQuantity(resources.cpuLimit)),
      memory: k8s.Quantity.fromString(memoryQuantity(resources.memoryLimitGb)),
    };
    const vendor = service.perNode ? undefined : service.homeNode.gpuVendor;
    if (service.gpu && vendor) {
      limits[gpuKeys(vendor).resource] = k8s.Quantity.fromNumber(platform.gpuAssignment.k3sLimit(service, service.homeNode));
    }
    const env = this.environment();
    const probe = service.healthCheck ? probeFor(service.healthCheck) : undefined;
    return {
      name: service.name,
      image: service.image,
      command: service.entrypoint ? [...service.entrypoint].map(escapeDollars) : undefined,
      args: service.commandFor('k3s')?.map(escapeDollars),
      env: env.length > 0 ? env : undefined,
      ports: service.ports.length > 0 ? containerPorts(service.ports).map((p) => ({ name: p.name, containerPort: p.port, protocol: p.protocol })) : undefined,
      resources: {
        requests: {
          cpu: k8s.Quantity.fromString(cpuQuantity(resources.cpuRequest)),
          memory: k8s.Quantity.fromString(memoryQuantity(resources.memoryRequestGb)),
        },
        limits,
      },
      livenessProbe: probe ? { ...probe, initialDelaySeconds: service.healthCheck?.startPeriodSeconds ?? 30 } : undefined,
      readinessProbe: probe,
      securityContext: this.containerSecurity(),
      volumeMounts: this.volumeMounts(),
    };
  }

  /** Drop every capability and forbid escalation; give back only what the service or its entrypoint needs. */
  private containerSecurity(): k8s.SecurityContext {
    const security = this.service.security;
    if (security.privileged) return { privileged: true };
    const nonRoot = security.nonRootUid !== undefined || security.user !== undefined;
    const add = security.capDrop ? [...(security.capAdd ?? [])] : [...(nonRoot ? [] : ENTRYPOINT_CAPABILITIES), ...(security.capAdd ?? [])];
    // Dropping ALL takes the right to listen below 1024 even from root (Technitium on 53, ntfy on 80).
    if (this.service.ports.some((p) => p.port < 1024)) add.push('NET_BIND_SERVICE');
    return {
      allowPrivilegeEscalation: false,
      capabilities: { drop: [...(security.capDrop ?? ['ALL'])], add: add.length > 0 ? [...new Set(add)].sort() : undefined },
    };
  }

  /**
   * Secrets first, as secretKeyRef variables, so later values can use them as `$(NAME)`; then the
   * service's variables, sorted. A DaemonSet pod also learns its node's name.
   */
  private environment(): k8s.EnvVar[] {
    const { service } = this;
    const resolver = new K3sResolver(service, service.nodes[0] ?? service.homeNode);
    const fromSecrets: k8s.EnvVar[] = service.secrets.map((secret) => ({
      name: secret.name,
      valueFrom: { secretKeyRef: { name: secretObjectName(secret), key: secret.name } },
    }));
    const secretNames = new Set(service.secrets.map((s) => s.name));
    const values: k8s.EnvVar[] = [];
    for (const name of Object.keys(service.env).sort()) {
      const value = service.env[name] as EnvValue;
      if (value instanceof Secret && value.name === name) continue;
      if (secretNames.has(name)) throw new Error(`${service.name}: ${name} is both a secret and a variable`);
      values.push({ name, value: envValue(value, resolver) });
    }
    const runtime: k8s.EnvVar[] = [];
    if (service.perNode) runtime.push({ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } });
    if (service.security.hostNetwork) runtime.push({ name: HOST_NETWORK_ADDRESS_ENV, valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } });
    // Telemetry reads every GPU of the node without taking one from the device plugin.
    if (service.gpuTelemetry && service.nodes.every((n) => n.gpuVendor === 'nvidia')) runtime.push({ name: 'NVIDIA_VISIBLE_DEVICES', value: 'all' });
    return [...fromSecrets, ...runtime, ...values];
  }

  private volumeMounts(): k8s.VolumeMount[] | undefined {
    const mounts: k8s.VolumeMount[] = [];
    this.service.volumesFor('k3s').forEach((v, i) => {
      const propagation = 'hostPath' in v && v.propagation === 'rslave' ? 'HostToContainer' : undefined;
      mounts.push({ name: volumeName(v, i), mountPath: v.mountPath, readOnly: v.readOnly ? true : undefined, mountPropagation: propagation });
    });
    for (const file of this.service.configFiles) {
      mounts.push({ name: 'config', mountPath: file.mountPath, subPath: configKey(file.name), readOnly: (file.readOnly ?? true) ? true : undefined });
    }
    return mounts.length > 0 ? mounts : undefined;
  }

  private podVolumes(withConfig: boolean): k8s.Volume[] | undefined {
    const { service } = this;
    const own = new Set(this.ownVolumes().map((v) => v.name));
    const volumes: k8s.Volume[] = [];
    service.volumesFor('k3s').forEach((v, i) => {
      if ('hostPath' in v) {
        volumes.push({ name: volumeName(v, i), hostPath: { path: v.hostPath } });
      } else if (this.kind === 'DaemonSet') {
        volumes.push({ name: v.name, hostPath: { path: `${NODE_DATA_ROOT}/${service.name}/${v.name}`, type: 'DirectoryOrCreate' } });
      } else if (!own.has(v.name)) {
        volumes.push({ name: v.name, persistentVolumeClaim: { claimName: v.name } });
      }
    });
    if (withConfig) volumes.push({ name: 'config', configMap: { name: `${service.name}-config` } });
    return volumes.length > 0 ? volumes : undefined;
  }

  private renderServices(namespace: string): void {
    const { service } = this;
    if (service.ports.length === 0) return;
    const ports = containerPorts(service.ports);
    new k8s.KubeService(this, 'service', {
      metadata: this.meta(service.name),
      spec: {
        type: 'ClusterIP',
        selector: selectorLabels(service),
        ports: ports.map((p) => ({ name: p.name, port: p.port, targetPort: k8s.IntOrString.fromNumber(p.port), protocol: p.protocol })),
      },
    });
    const entry = ports.filter((p) => p.entry);
    if (entry.length > 0) {
      new k8s.KubeService(this, 'entry', {
        metadata: { name: `${service.name}-entry`, namespace, labels: podLabels(service) },
        spec: {
          // k3s ServiceLB (klipper-lb) binds these on the nodes; Local keeps the client's address.
          type: 'LoadBalancer',
          externalTrafficPolicy: 'Local',
          selector: selectorLabels(service),
          ports: entry.map((p) => ({ name: p.name, port: p.port, targetPort: k8s.IntOrString.fromNumber(p.port), protocol: p.protocol })),
        },
      });
    }
  }

  /** Read access to pods where the service discovers them (Prometheus and per-node exporters). */
  private renderApiAccess(): void {
    const namespaces = podDiscoveryNamespaces(this.service);
    if (namespaces.length === 0) return;
    const { service } = this;
    new k8s.KubeServiceAccount(this, 'account', { metadata: this.meta(service.name) });
    for (const namespace of namespaces) {
      const meta = { name: `${service.name}-discovery`, namespace, labels: podLabels(service) };
      new k8s.KubeRole(this, `role-${namespace}`, {
        metadata: meta,
        rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }],
      });
      new k8s.KubeRoleBinding(this, `binding-${namespace}`, {
        metadata: meta,
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: meta.name },
        subjects: [{ kind: 'ServiceAccount', name: service.name, namespace: service.zone.namespace }],
      });
    }
  }
}

/** Kubernetes port names: at most 15 characters, unique within the pod. */
export function containerPorts(ports: readonly PortSpec[]): { name: string; port: number; protocol: 'TCP' | 'UDP'; entry: boolean }[] {
  const seen = new Set<string>();
  return ports.map((p) => {
    const protocol = (p.protocol ?? 'tcp').toUpperCase() as 'TCP' | 'UDP';
    let name = p.name.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 15);
    if (seen.has(name)) name = `${name.slice(0, 11)}-${protocol.toLowerCase()}`;
    seen.add(name);
    return { name, port: p.port, protocol, entry: p.entry ?? false };
  });
}

function probeFor(h: HealthCheckSpec): k8s.Probe {
  const timing = {
    periodSeconds: h.intervalSeconds ?? 30,
    timeoutSeconds: h.timeoutSeconds ?? 10,
    failureThreshold: h.retries ?? 3,
  };
  if (h.exec) return { exec: { command: [...h.exec] }, ...timing };
  if (h.http && h.loopbackOnly) {
    // The kubelet probes the pod address; an endpoint bound to 127.0.0.1 is checked from inside.
    return { exec: { command: inImageCheck(h) }, ...timing };
  }
  if (h.http) return { httpGet: { port: k8s.IntOrString.fromNumber(h.http.port), path: h.http.path }, ...timing };
  if (h.tcp) return { tcpSocket: { port: k8s.IntOrString.fromNumber(h.tcp.port) }, ...timing };
  throw new Error('health check needs http, tcp or exec');
}

function envValue(value: EnvValue, resolver: K3sResolver): string {
  if (typeof value === 'string') return escapeDollars(value);
  if (value instanceof Secret) return `$(${value.name})`;
  if (value instanceof EnvTemplate) return value.parts.map((p) => envValue(p, resolver)).join('');
  return escapeDollars(value(resolver));
}

export function configKey(name: string): string {
  return name.replace(/\//g, '_');
}

function volumeName(volume: VolumeSpec, index: number): string {
  return 'hostPath' in volume ? `host-${index}` : volume.name;
}

function checksum(data: Record<string, string>): string {
  const hash = createHash('sha256');
  for (const key of Object.keys(data).sort()) hash.update(`${key}\0${data[key]}\0`);
  return hash.digest('hex');
}

