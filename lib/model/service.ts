import type { GpuVendor } from '../config/schema.js';
import { Construct } from 'constructs';
import type { ConfigPath } from '../config/errors.js';
import type { BuildFile } from '../image-build.js';
import type { Node } from './node.js';
import type { Platform } from './platform.js';
import { Secret } from './secret.js';
import type { Zone } from './zone.js';
import { EnvTemplate, envPrefix, type EnvValue, type Resolver } from './values.js';
import { treeChanged } from './tree-version.js';
import { compareText } from '../output/order.js';

export interface PortSpec {
  /** Container port. */
  readonly port: number;
  /** @default 'tcp' */
  readonly protocol?: 'tcp' | 'udp';
  /** What the port is, e.g. "http", "dns", "admin". */
  readonly name: string;
  /**
   * An entry point for clients outside the homelab (80/443/53 on the edge): always published on
   * the node's bind address. Other ports are published only when a service on another node dials them.
   * @default false
   */
  readonly entry?: boolean;
  /** Speaks HTTP, so a `<NAME>_URL` can be offered to apps. @default true for tcp */
  readonly http?: boolean;
  /**
   * How a client proves who it is on this port: a password or login (Postgres, basic auth, a UI
   * with accounts), a token or key (LiteLLM's master key, S3 signatures), or `none`: it answers
   * anyone who reaches it. `validate` reports every published port that is `none`. @default 'none'
   */
  readonly authentication?: PortAuthentication;
}

/** How a port tells its clients apart. */
export type PortAuthentication = 'none' | 'password' | 'token';

/** What a named volume holds; only `state` needs a backup. */
export type VolumeHolds = 'state' | 'cache' | 'models' | 'config';

export type VolumeSpec =
  | {
      /** Data the service keeps: a named volume, or a folder under the storage root in bind mode. */
      readonly name: string;
      readonly mountPath: string;
      /** Expected size in GB, for PVCs and disk budgets. @default 10 */
      readonly sizeGb?: number;
      readonly readOnly?: boolean;
      /**
       * What the volume holds: `state` (the service's data: back it up), `cache` (rebuilt on its
       * own), `models` (weights downloaded again from their source), `config` (rendered or
       * placed configuration). Backups read this.
       */
      readonly holds: VolumeHolds;
    }
  | {
      /** A host path (docker socket, /sys): mounted as is, never pruned or created. */
      readonly hostPath: string;
      readonly mountPath: string;
      readonly readOnly?: boolean;
      /**
       * Mounts made on the host later appear inside too (`rslave`; Kubernetes: HostToContainer),
       * so node-exporter sees filesystems mounted after it started. @default private
       */
      readonly propagation?: 'rslave';
    };

export interface ConfigFileSpec {
  /** Path relative to the service's config folder, e.g. "Caddyfile". */
  readonly name: string;
  /** Where the container reads it. */
  readonly mountPath: string;
  /** Rendered for the target; never contains a secret value. */
  readonly content: (resolve: Resolver) => string;
  /** Mounted read-only. @default true */
  readonly readOnly?: boolean;
  /** A script the container runs: written executable (0755) where it is a file. @default false */
  readonly executable?: boolean;
}

export interface HealthCheckSpec {
  /** An HTTP GET that must answer 2xx. */
  readonly http?: { readonly port: number; readonly path: string };
  /** A TCP port that must accept connections. */
  readonly tcp?: { readonly port: number };
  /** A command that must exit 0. */
  readonly exec?: readonly string[];
  /**
   * Tool inside the image that performs an http/tcp check for Compose (Kubernetes probes need none).
   * @default 'wget'
   */
  readonly via?: 'wget' | 'curl' | 'python' | 'bash';
  /** @default 30 */
  readonly intervalSeconds?: number;
  /** @default 10 */
  readonly timeoutSeconds?: number;
  /** @default 3 */
  readonly retries?: number;
  /**
   * The endpoint listens on 127.0.0.1 only (Caddy's admin API): Kubernetes probes the pod address,
   * so it runs the in-image check as an exec probe instead. @default false
   */
  readonly loopbackOnly?: boolean;
  /** Grace time after start. @default 30 */
  readonly startPeriodSeconds?: number;
}

export interface ResourceSpec {
  /** CPU limit in cores. */
  readonly cpus: number;
  /** Memory limit in GB. */
  readonly memoryGb: number;
}

export interface GpuRequest {
  /** GPUs wanted: a number, or every GPU of the node. */
  readonly count: number | 'all';
  /** Pinned device indices; otherwise the placement picks the least loaded GPUs. */
  readonly devices?: readonly number[];
  /**
   * VRAM in GB the service keeps resident on each of its GPUs, for the VRAM budget, when no model
   * table knows it (your own GPU apps). @default none counted
   */
  readonly vramGb?: number;
  /** Vendors its image runs on; a node of another vendor is refused. @default ['nvidia'] */
  readonly vendors?: readonly GpuVendor[];
}

/** A destination outside the homelab the service talks to: listed for the sovereignty report. */
export interface EgressSpec {
  readonly host: string;
  readonly why: string;
  /** The config key that names the destination, when there is one. @default the service's */
  readonly configPath?: ConfigPath;
  /** Ports it is reached on (k3s egress policies open exactly these). @default 80 and 443 over TCP */
  readonly ports?: readonly { readonly port: number; readonly protocol: 'tcp' | 'udp' }[];
}

export interface SecuritySpec {
  readonly capDrop?: readonly string[];
  readonly capAdd?: readonly string[];
  readonly privileged?: boolean;
  /** Share the host PID namespace (node-exporter). */
  readonly hostPid?: boolean;
  /**
   * Share the host network namespace (node-exporter: the host's interfaces, not the container's).
   * The service joins no zone network and publishes nothing; both targets tell it the node address
   * to listen on in `NODE_ADDRESS` (HOST_NETWORK_ADDRESS_ENV), and the others dial it there.
   * @default false
   */
  readonly hostNetwork?: boolean;
  /** Run as this uid:gid. */
  readonly user?: string;
  /**
   * The image runs as this non-root uid out of the box (Kubernetes sets runAsNonRoot and fsGroup).
   * @default root, or whatever `user` says
   */
  readonly nonRootUid?: number;
}

/** Horizontal scaling where the target supports it (a HorizontalPodAutoscaler on k3s). */
export interface ScalingSpec {
  /** @default 1 */
  readonly minReplicas?: number;
  readonly maxReplicas: number;
  /** Average CPU utilisation that adds a replica. @default 70 */
  readonly cpuPercent?: number;
}

/** The targets a service is rendered for. */
export type Target = 'compose' | 'k3s';

/** What a runtime forces to differ (Docker socket vs containerd, /var/lib/docker vs /var/log/pods). */
export interface TargetSpecifics {
  /** Replaces `command` on this target. @default the common command */
  readonly command?: readonly string[];
  /** Added to the common volumes on this target. @default none */
  readonly volumes?: readonly VolumeSpec[];
}

/** An image the platform builds from a Dockerfile it ships (`images/` of the repository). */
export interface BuildSpec {
  /** The build context: Dockerfile first among equals, written beside the rendered stack. */
  readonly files: readonly BuildFile[];
}

export interface ServiceProps {
  /** Image with a concrete version tag. */
  readonly image: string;
  /** Build `image` from this context where the target can (Compose `build:`). @default pulled */
  readonly build?: BuildSpec;
  /** The zone the service lives in. */
  readonly zone: Zone;
  /** Where it runs: one node, or one instance on each of several nodes (exporters, log shippers). */
  readonly nodes: readonly Node[];
  /** One instance on each of `nodes` (a DaemonSet on k3s), even when that is a single node. @default false */
  readonly perNode?: boolean;
  /** Where in platform.yaml this service is configured, so errors point there. */
  readonly configPath: ConfigPath;
  /** One line for READMEs and graphs. */
  readonly description: string;
  /** Replace the image's entrypoint. @default the image's */
  readonly entrypoint?: readonly string[];
  /** Replace the image's command. @default the image's */
  readonly command?: readonly string[];
  /** @default {} */
  readonly env?: Readonly<Record<string, EnvValue>>;
  /** @default [] */
  readonly ports?: readonly PortSpec[];
  /** @default [] */
  readonly volumes?: readonly VolumeSpec[];
  /** @default [] */
  readonly configFiles?: readonly ConfigFileSpec[];
  /** Required for long-running services; one-shots have none. */
  readonly healthCheck?: HealthCheckSpec;
  /** @default 1 CPU, 1 GB */
  readonly resources?: ResourceSpec;
  /** @default no GPU */
  readonly gpu?: GpuRequest;
  /** Runs once to completion (model pulls): never restarted, never marks its stack unhealthy. @default false */
  readonly oneShot?: boolean;
  /** Started only on demand (compose profile). @default always started */
  readonly profile?: string;
  /** Internet destinations it needs. @default none */
  readonly egress?: readonly EgressSpec[];
  /** Prometheus scrape endpoint. @default none */
  readonly metrics?: { readonly port: number; readonly path?: string };
  /** @default drop nothing, no privileges */
  readonly security?: SecuritySpec;
  /** Reads telemetry of every GPU of its node (exporters) without taking a share in GPU placement. @default false */
  readonly gpuTelemetry?: boolean;
  /** Replicas scale with load where the target can (k3s HPA); Compose runs one. @default one replica */
  readonly scaling?: ScalingSpec;
  /** Per-target command and volumes, for what the container runtime forces. @default none */
  readonly onTarget?: Partial<Record<Target, TargetSpecifics>>;
  /** An admin UI with no login of its own: a public route to it needs basic auth. @default false */
  readonly adminWithoutLogin?: boolean;
  /** An inference API that answers anyone: kept out of the edge's zone. @default false */
  readonly inference?: boolean;
  /** The GPU models it keeps resident, for the VRAM budget and the graph. @default none */
  readonly gpuModels?: GpuModels;
  /** Sections of its stack's Compose README (what to do by hand after deploying it). @default none */
  readonly composeDocs?: ComposeDocs;
}

/**
 * What a GPU service keeps in VRAM: an LLM server keeps up to `ollama.maxLoadedModels` of the
 * config's `models.ollama` resident (each may spill to CPU RAM); a single-model server keeps the
 * largest of the named models of `GPU_MODEL_VRAM` (lib/validate/vram.ts) resident.
 */
export type GpuModels =
  | { readonly kind: 'llm-resident' }
  | { readonly kind: 'largest'; readonly models: (platform: Platform) => readonly string[] };

/**
 * Sections a service adds to its stack's Compose README (what to do by hand for it), per flavour.
 * `order` places them: below 0 before the generated-secrets list, otherwise after the on-demand
 * notes, lowest first.
 */
export interface ComposeDocs {
  readonly order: number;
  readonly render: (platform: Platform, flavor: 'coolify' | 'plain') => readonly string[];
}

export interface ConnectOptions {
  /** Port of `to` that is dialled. @default its first port */
  readonly port?: number;
  /** Protocol of that port, where a port number serves both (DNS 53). @default the first match */
  readonly protocol?: 'tcp' | 'udp';
  /** `from` should start after `to` is healthy (compose depends_on, sync order). @default false */
  readonly ordering?: boolean;
  /**
   * The instances of a per-node `from` that dial `to` this way (the others reach it another way,
   * e.g. through an authenticating gateway). @default every node of `from`
   */
  readonly fromNodes?: readonly Node[];
}

export interface Connection {
  readonly from: Service;
  readonly to: Service;
  readonly port: number;
  readonly protocol: 'tcp' | 'udp';
  readonly ordering: boolean;
  /** The instances of `from` that dial this way. */
  readonly fromNodes: readonly Node[];
}

const DEFAULT_RESOURCES: ResourceSpec = { cpus: 1, memoryGb: 1 };

/*
 * The effective specs: every `@default` of the props applied once, here, when the construct is
 * built, so no renderer or rule carries a default of its own.
 */

/** A port with its protocol, entry, http and authentication decided. */
export type EffectivePort = PortSpec & Required<Pick<PortSpec, 'protocol' | 'entry' | 'http' | 'authentication'>>;
/** A health check with its tool and timings decided. */
export type EffectiveHealthCheck = HealthCheckSpec &
  Required<Pick<HealthCheckSpec, 'via' | 'intervalSeconds' | 'timeoutSeconds' | 'retries' | 'startPeriodSeconds' | 'loopbackOnly'>>;
/** A volume; a data volume with its size decided. */
export type EffectiveVolume = Exclude<VolumeSpec, { name: string }> | (Extract<VolumeSpec, { name: string }> & { readonly sizeGb: number });
/** A config file with read-only and executable decided. */
export type EffectiveConfigFile = ConfigFileSpec & Required<Pick<ConfigFileSpec, 'readOnly' | 'executable'>>;

/** Size of a data volume that names none, in GB. */
export const DEFAULT_VOLUME_GB = 10;

function effectiveVolume(v: VolumeSpec): EffectiveVolume {
  return 'hostPath' in v ? v : { ...v, sizeGb: v.sizeGb ?? DEFAULT_VOLUME_GB };
}

function effectiveHealthCheck(h: HealthCheckSpec): EffectiveHealthCheck {
  return {
    ...h,
    via: h.via ?? 'wget',
    intervalSeconds: h.intervalSeconds ?? 30,
    timeoutSeconds: h.timeoutSeconds ?? 10,
    retries: h.retries ?? 3,
    startPeriodSeconds: h.startPeriodSeconds ?? 30,
    loopbackOnly: h.loopbackOnly ?? false,
  };
}

/**
 * The variable a host-network service finds its node's address in (Compose: the node's bind
 * address; k3s: the pod's host IP), so it listens there and not on every interface of the host.
 */
export const HOST_NETWORK_ADDRESS_ENV = 'NODE_ADDRESS';

/**
 * A containerised service, described once and target-neutrally. Renderers translate it; they
 * never add facts of their own. Subclasses (one per service kind, in lib/services/) fill the
 * props from the config.
 */
export class Service extends Construct {
  /** Compose service name, Kubernetes object name, DNS name. */
  readonly name: string;
  readonly image: string;
  /** The build context of `image`, when the platform builds it. */
  readonly build?: BuildSpec;
  readonly zone: Zone;
  readonly nodes: readonly Node[];
  /** One instance per node (exporters, log shippers): a DaemonSet on k3s. */
  readonly perNode: boolean;
  readonly configPath: ConfigPath;
  readonly description: string;
  readonly entrypoint?: readonly string[];
  readonly command?: readonly string[];
  private readonly envVars: Record<string, EnvValue>;
  readonly ports: readonly EffectivePort[];
  readonly volumes: readonly EffectiveVolume[];
  readonly configFiles: readonly EffectiveConfigFile[];
  readonly healthCheck?: EffectiveHealthCheck;
  readonly resources: ResourceSpec;
  readonly gpu?: GpuRequest;
  readonly oneShot: boolean;
  readonly profile?: string;
  readonly egress: readonly EgressSpec[];
  readonly metrics?: { readonly port: number; readonly path: string };
  readonly security: SecuritySpec;
  readonly gpuTelemetry: boolean;
  readonly scaling?: Required<ScalingSpec>;
  private readonly onTarget: Partial<Record<Target, TargetSpecifics>>;
  readonly adminWithoutLogin: boolean;
  readonly inference: boolean;
  readonly gpuModels?: GpuModels;
  readonly composeDocs?: ComposeDocs;
  private readonly connectionList: Connection[] = [];

  constructor(scope: Construct, name: string, props: ServiceProps) {
    super(scope, name);
    treeChanged(this);
    if (props.nodes.length === 0) throw new Error(`service ${name}: placed on no node`);
    if (!props.oneShot && !props.healthCheck) throw new Error(`service ${name}: a long-running service needs a health check`);
    this.name = name;
    this.image = props.image;
    this.build = props.build;
    this.zone = props.zone;
    this.nodes = props.nodes;
    this.perNode = props.perNode ?? false;
    if (!this.perNode && props.nodes.length > 1) throw new Error(`service ${name}: placed on several nodes but not perNode`);
    this.configPath = props.configPath;
    this.description = props.description;
    this.entrypoint = props.entrypoint;
    this.command = props.command;
    this.envVars = { ...props.env };
    this.ports = (props.ports ?? []).map((p) => ({ ...p, protocol: p.protocol ?? 'tcp', entry: p.entry ?? false, http: p.http ?? (p.protocol ?? 'tcp') === 'tcp', authentication: p.authentication ?? 'none' }));
    this.volumes = (props.volumes ?? []).map(effectiveVolume);
    this.configFiles = (props.configFiles ?? []).map((f) => ({ ...f, readOnly: f.readOnly ?? true, executable: f.executable ?? false }));
    this.healthCheck = props.healthCheck && effectiveHealthCheck(props.healthCheck);
    this.resources = props.resources ?? DEFAULT_RESOURCES;
    this.gpu = props.gpu;
    this.oneShot = props.oneShot ?? false;
    this.profile = props.profile;
    this.egress = props.egress ?? [];
    this.metrics = props.metrics ? { port: props.metrics.port, path: props.metrics.path ?? '/metrics' } : undefined;
    this.security = props.security ?? {};
    this.gpuTelemetry = props.gpuTelemetry ?? false;
    if (props.scaling) {
      const { minReplicas = 1, maxReplicas, cpuPercent = 70 } = props.scaling;
      if (maxReplicas < minReplicas) throw new Error(`service ${name}: maxReplicas ${maxReplicas} is below minReplicas ${minReplicas}`);
      this.scaling = { minReplicas, maxReplicas, cpuPercent };
    }
    this.onTarget = props.onTarget ?? {};
    this.adminWithoutLogin = props.adminWithoutLogin ?? false;
    this.inference = props.inference ?? false;
    this.gpuModels = props.gpuModels;
    this.composeDocs = props.composeDocs;
  }

  /** The command on `target`. */
  commandFor(target: Target): readonly string[] | undefined {
    return this.onTarget[target]?.command ?? this.command;
  }

  /** Common volumes, then those only `target` needs. */
  volumesFor(target: Target): readonly EffectiveVolume[] {
    return [...this.volumes, ...(this.onTarget[target]?.volumes ?? []).map(effectiveVolume)];
  }

  /** Environment variables, by name: literals, secret references, and values resolved per target. */
  get env(): Readonly<Record<string, EnvValue>> {
    return this.envVars;
  }

  /** For subclasses whose environment follows from connections made after construction. */
  protected addEnv(name: string, value: EnvValue): void {
    if (name in this.envVars) throw new Error(`${this.name}: environment variable ${name} is set twice`);
    this.envVars[name] = value;
  }

  /** The stack this service belongs to (its parent construct). */
  get stackName(): string {
    return this.node.scope?.node.id ?? '';
  }

  /** Runs on no deployed node (gpu-over-lan): nothing is rendered for it; it is reached at its machine's address. */
  get external(): boolean {
    return this.nodes.every((n) => !n.deployed);
  }

  /**
   * The non-root uid the image's process runs as (`security.nonRootUid`, or the uid of
   * `security.user`); undefined when it runs as root. Kubernetes security contexts and the
   * bind-mode folder owners both read it.
   */
  get runAsUid(): number | undefined {
    if (this.security.nonRootUid !== undefined) return this.security.nonRootUid;
    const user = this.security.user;
    if (user === undefined) return undefined;
    const uid = Number(user.split(':')[0]);
    return Number.isInteger(uid) && uid > 0 ? uid : undefined;
  }

  /**
   * What a client needs in its environment beyond host and port to use this service (its own
   * database and login, a password), for apps that connect. `client` is the connecting service.
   * @default nothing
   */
  clientEnv(_client: Service, _prefix: string): Readonly<Record<string, EnvValue>> {
    return {};
  }

  /** The single node of a one-node service. */
  get homeNode(): Node {
    if (this.nodes.length !== 1) throw new Error(`service ${this.name} runs on ${this.nodes.length} nodes; ask for its instances`);
    return this.nodes[0] as Node;
  }

  get primaryPort(): EffectivePort | undefined {
    return this.ports[0];
  }

  get connections(): readonly Connection[] {
    return this.connectionList;
  }

  /** Secrets this service's environment references. */
  get secrets(): Secret[] {
    const found = new Map<string, Secret>();
    const visit = (value: unknown) => {
      if (value instanceof Secret) found.set(value.name, value);
      else if (value instanceof EnvTemplate) value.parts.forEach(visit);
    };
    Object.values(this.env).forEach(visit);
    return [...found.values()].sort((a, b) => compareText(a.name, b.name));
  }

  /**
   * Dial `to` and receive its address in the environment: `<NAME>_HOST`, `<NAME>_PORT`, for an
   * HTTP port `<NAME>_URL`, and whatever `to` hands its clients (a database and login, a password).
   * What apps get for their `connects`, and built-ins for `services.<name>.connects`.
   */
  connectWithEnv(to: Service, options: ConnectOptions = {}): Connection {
    const connection = this.connect(to, options);
    const prefix = envPrefix(to.name);
    this.addEnv(`${prefix}_HOST`, (r) => r.address(to, connection.port).host);
    this.addEnv(`${prefix}_PORT`, (r) => String(r.address(to, connection.port).port));
    if (to.ports.find((p) => p.port === connection.port)?.http) this.addEnv(`${prefix}_URL`, (r) => r.url(to, connection.port));
    for (const [name, value] of Object.entries(to.clientEnv(this, prefix))) this.addEnv(name, value);
    return connection;
  }

  /** Declare that this service dials `to`. Networks, policies, ordering and published ports follow from it. */
  connect(to: Service, options: ConnectOptions = {}): Connection {
    const portSpec =
      options.port === undefined
        ? to.primaryPort
        : to.ports.find((p) => p.port === options.port && (options.protocol === undefined || p.protocol === options.protocol));
    if (!portSpec) {
      const ports = to.ports.map((p) => p.port).join(', ') || 'none';
      throw new Error(`${this.name} -> ${to.name}: ${to.name} has no port ${options.port ?? ''} (ports: ${ports})`);
    }
    const existing = this.connectionList.find((c) => c.to === to && c.port === portSpec.port);
    if (existing) return existing;
    const connection: Connection = {
      from: this,
      to,
      port: portSpec.port,
      protocol: portSpec.protocol ?? 'tcp',
      ordering: options.ordering ?? false,
      fromNodes: options.fromNodes ?? this.nodes,
    };
    this.connectionList.push(connection);
    treeChanged(this);
    return connection;
  }
}
