import type { ConfigPath } from '../config/errors.js';
import type { GpuVendor, PlatformConfig } from '../config/schema.js';
import type { ImageBuild } from '../images.js';
import type { Platform } from '../model/platform.js';
import type { Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import type { CatalogServiceProps } from './common.js';

/**
 * Where a service kind runs by default: the first server, the first GPU node, one instance on
 * every deployed node, one on every deployed node with a GPU, or on the node(s) of another service.
 */
export type NodeRole = 'server' | 'gpu' | 'every-node' | 'gpu-nodes' | { readonly with: string };

/**
 * How a visitor of a route proves who they are: `none` (public), `basic` (basic auth at the edge,
 * Caddy, before the request reaches the service), `login` (the service's own accounts), `token`
 * (a key or signature per request: LiteLLM's master key, S3 signatures, Qdrant's API key).
 */
export type RouteAuth = 'none' | 'basic' | 'login' | 'token';

/** A site Caddy serves for a built-in service: `<host>.<domain>` to one of its ports. */
export interface RouteDescriptor {
  /** Subdomain, or where the config names it (MinIO's S3 API: `minio.host`). */
  readonly host: string | ((config: PlatformConfig) => string);
  /** Port of the service the site proxies to. */
  readonly port: number;
  /** How a visitor authenticates; only `basic` makes the edge ask for a password. */
  readonly auth: RouteAuth;
  /** Path the status checks probe. @default the site's root */
  readonly probePath?: string;
  /** Where in platform.yaml the route is configured, for findings. @default ['services', name] */
  readonly configPath?: ConfigPath;
  /**
   * Position among the built-in sites (Caddyfile order, Uptime Kuma's monitors): lower first.
   * Apps' routes follow every built-in one.
   */
  readonly rank: number;
}

/** What a descriptor's `create` and `finish` see while the platform is being built. */
export interface BuildContext {
  readonly platform: Platform;
  readonly config: PlatformConfig;
  /** A service already built (enabled and placed), by name; undefined otherwise. */
  built<S extends Service = Service>(name: string): S | undefined;
  /** Enabled by the config (explicitly, or by its descriptor's default). */
  isEnabled(name: string): boolean;
}

/** What `create` receives: the context, the stack the service goes into and its common props. */
export interface CreateContext extends BuildContext {
  readonly stack: Stack;
  readonly props: CatalogServiceProps;
}

/**
 * Everything the platform knows about one service kind that is not the container itself (the
 * construct in the same file holds that): its pinned image, where it goes, what it needs, whether
 * it is on by default, its routes and how they authenticate, whether it takes a GPU, and how it is
 * wired to the services it connects to. The registry (`registry.ts`) lists the descriptors;
 * config keys, the schema and the platform builder derive from it, so a new service kind is one
 * file plus one line there.
 */
export interface ServiceDescriptor<N extends string = string> {
  /** Config key under `services:` and `images:`; the Compose service and Kubernetes object name. */
  readonly name: N;
  /**
   * The pinned image: a concrete version tag, overridable with `images.<name>`. Written as a
   * literal `image: 'repo:tag',` line in the service's file, where Renovate's regex manager finds it.
   */
  readonly image: string;
  /** The platform builds `image` from `images/` of the repository (unless `images:` overrides it). @default pulled */
  readonly build?: ImageBuild;
  /** The stack (Coolify application / ArgoCD app) it belongs to. */
  readonly stack: string;
  /** Default zone; `services.<name>.zone` moves it. */
  readonly zone: string;
  /** Default node role; `services.<name>.node` moves a single-instance service. */
  readonly on: NodeRole;
  /** Services that must be enabled for this one to work (a config error otherwise). @default none */
  readonly requires?: readonly string[];
  /**
   * Services this one uses when they are enabled (built first, so `create` can wire them).
   * @default none
   */
  readonly uses?: readonly string[];
  /** On unless the config says otherwise, or as this function decides. @default true */
  readonly enabledByDefault?: boolean | ((config: PlatformConfig) => boolean);
  /**
   * GPUs it takes by default (`services.<name>.gpus` / `gpuDevices` change them). A service
   * without it cannot take a GPU: setting `gpus` on it is a config error. @default none
   */
  readonly gpus?: number | 'all';
  /**
   * It also runs without a GPU, on a node's CPU (same image): placed there when no node lists
   * GPUs, when its node has none, or when `services.<name>.gpus: 0`. A GPU kind without it is left
   * out of a platform with no GPU node (and refused when enabled explicitly). @default false
   */
  readonly cpuFallback?: boolean;
  /**
   * GPU vendors its image runs on (a GPU kind, or a per-GPU-node exporter: `gpu-nodes` places it on
   * the nodes of these vendors only). A kind is placed on a node of a vendor it supports; moved to
   * another it is refused. @default ['nvidia'] (CUDA builds)
   */
  readonly gpuVendors?: readonly GpuVendor[];
  /**
   * The tag suffix of the ROCm build upstream publishes beside each release of `image`, used on AMD
   * GPU nodes (Ollama: `ollama/ollama:0.11.4-rocm`). A suffix, not a second pin, so it follows the
   * pinned tag when Renovate bumps it. Needed when `gpuVendors` lists `amd` for a kind that also
   * runs on NVIDIA with another build. @default none (the same image on every vendor)
   */
  readonly rocmTagSuffix?: string;
  /**
   * An admin UI with no login of its own: a public route to it needs basic auth at the edge
   * (`public-admin-without-auth`). @default false
   */
  readonly adminWithoutLogin?: boolean;
  /**
   * An inference API that answers anyone who reaches it: it must not share a zone with the edge
   * (`inference-exposed`). @default false
   */
  readonly inference?: boolean;
  /** Its sites at the edge. @default none */
  readonly routes?: readonly RouteDescriptor[];
  /**
   * Built after every other service, the apps and the routes (the edge, and what depends on
   * the edge: its log gateway, its probes). @default false
   */
  readonly edge?: boolean;
  /** Build the construct; undefined when a service it needs is missing. */
  readonly create: (ctx: CreateContext) => Service | undefined;
  /** Wiring that needs every service built (Prometheus scrapes, Uptime Kuma watches the routes). @default none */
  readonly finish?: (ctx: BuildContext, service: Service) => void;
}

/** Declare a descriptor, keeping its name's literal type (the registry derives `ServiceName` from it). */
export function defineService<N extends string>(descriptor: ServiceDescriptor<N>): ServiceDescriptor<N> {
  return descriptor;
}
