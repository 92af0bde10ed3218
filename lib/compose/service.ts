import type { Node } from '../model/node.js';
import type { Platform } from '../model/platform.js';
import { Secret } from '../model/secret.js';
import { HOST_NETWORK_ADDRESS_ENV, type EffectiveHealthCheck, type EffectiveVolume, type Service } from '../model/service.js';
import { EnvTemplate, escapeDollars, type EnvValue } from '../model/values.js';
import { inImageCheck } from '../model/health.js';
import { ComposeResolver } from './resolver.js';
import { compareText } from '../output/order.js';

export type ComposeFlavor = 'coolify' | 'plain';

/** Memory for Compose: `4G`, or `512M` below a whole GB. */
export function composeMemory(gb: number): string {
  return Number.isInteger(gb) ? `${gb}G` : `${Math.round(gb * 1024)}M`;
}

/** How a secret is referenced in one compose file. */
export type SecretStyle = (secret: Secret) => string;

/** `${PG_PASSWORD:?}`: Compose refuses to start and Coolify blocks the deploy until it is set. */
export function requiredVariable(secret: Secret): string {
  return `\${${secret.name}:?}`;
}

const MAGIC_PREFIX: Partial<Record<Secret['generate'], string>> = {
  password: 'SERVICE_PASSWORD_',
  password64: 'SERVICE_PASSWORD_64_',
  user: 'SERVICE_USER_',
  hex32: 'SERVICE_HEX_32_',
};

/** Coolify's generated variable for a secret (`PG_PASSWORD` -> `SERVICE_PASSWORD_PGPASSWORD`), if it has one. */
export function magicVariable(secret: Secret): string | undefined {
  const prefix = MAGIC_PREFIX[secret.generate];
  // Coolify's generated values carry no prefix, so a key that needs one is set by hand.
  if (!prefix || secret.prefix !== undefined) return undefined;
  // Coolify reads <ID> as one token: no underscores.
  return `${prefix}${secret.name.replace(/_/g, '')}`;
}

function envValue(value: EnvValue, resolver: ComposeResolver, secretStyle: SecretStyle): string {
  if (typeof value === 'string') return escapeDollars(value);
  if (value instanceof Secret) return secretStyle(value);
  if (value instanceof EnvTemplate) return value.parts.map((p) => envValue(p, resolver, secretStyle)).join('');
  return escapeDollars(value(resolver));
}

function healthTest(h: EffectiveHealthCheck): string[] {
  return ['CMD', ...inImageCheck(h).map(escapeDollars)];
}

function seconds(n: number): string {
  return `${n}s`;
}

export interface ComposeServiceContext {
  readonly platform: Platform;
  readonly node: Node;
  readonly flavor: ComposeFlavor;
  readonly secretStyle: SecretStyle;
  /** Networks the service joins, already decided by the file renderer. */
  readonly networks: readonly string[];
  /** Ports to publish on the node's bind address. */
  readonly published: readonly { port: number; protocol: 'tcp' | 'udp' }[];
  /** Same-file services this one waits for. */
  readonly dependsOn: readonly Service[];
}

/** Named volume (or bind folder under the storage root) of a data volume. */
export function dataVolumeSource(platform: Platform, service: Service, volume: { name: string }): string {
  const storage = platform.config.storage;
  return storage.mode === 'bind' ? `${storage.root}/${service.stackName}/${volume.name}` : volume.name;
}

function volumeEntry(platform: Platform, service: Service, volume: EffectiveVolume): Record<string, unknown> {
  if ('hostPath' in volume) {
    return {
      type: 'bind',
      source: volume.hostPath,
      target: volume.mountPath,
      ...(volume.readOnly ? { read_only: true } : {}),
      ...(volume.propagation ? { bind: { propagation: volume.propagation } } : {}),
    };
  }
  const readOnly = volume.readOnly ? { read_only: true } : {};
  if (platform.config.storage.mode === 'bind') {
    return { type: 'bind', source: dataVolumeSource(platform, service, volume), target: volume.mountPath, ...readOnly, bind: { create_host_path: true } };
  }
  return { type: 'volume', source: volume.name, target: volume.mountPath, ...readOnly };
}

/** Relative path of a config file beside the compose file (plain flavour). */
export function configFilePath(service: Service, name: string): string {
  return `${service.name}/${name}`;
}

/** Name of a config file in the top-level `configs` of a Coolify-flavour compose file: `caddy-Caddyfile`. */
export function composeConfigName(service: Service, name: string): string {
  return `${service.name}-${name}`.replace(/[^A-Za-z0-9._-]/g, '-');
}

/**
 * Top-level `configs` of a Coolify-flavour compose file: every config file of its services, the
 * text inline (`content`, Compose 2.23.1 or newer). Compose interpolates `content` like any other
 * value, so every `$` is doubled and the container receives the text as rendered.
 *
 * Why not a bind with Coolify's `content:` key: Coolify writes that file once, when the compose
 * file is first parsed, and then deletes the key from its stored copy (bootstrap/helpers/parsers.php,
 * applicationParser: `LocalFileVolume::updateOrCreate` with the content, then "Update
 * docker_compose_raw to remove content: from volumes only"), so a re-rendered config never reaches
 * the server.
 */
export function composeConfigs(services: readonly Service[], node: Node): Record<string, { content: string }> {
  const configs: Record<string, { content: string }> = {};
  for (const service of services) {
    const resolver = new ComposeResolver(service, node);
    for (const file of service.configFiles) configs[composeConfigName(service, file.name)] = { content: escapeDollars(file.content(resolver)) };
  }
  return Object.fromEntries(Object.entries(configs).sort(([a], [b]) => compareText(a, b)));
}

/** Folder of a built image's context beside the compose file, for `build.context`. */
export function buildContextPath(service: Service): string {
  return `${service.name}/build`;
}

/**
 * One service of a compose file, keys in dclint's order (image, depends_on, volumes,
 * environment, ports, networks, command, entrypoint, restart, healthcheck, logging, then the rest
 * alphabetically).
 */
export function renderComposeService(service: Service, ctx: ComposeServiceContext): Record<string, unknown> {
  const { platform, node, flavor } = ctx;
  const resolver = new ComposeResolver(service, node);
  const out: Record<string, unknown> = { image: service.image };
  // Compose builds the image and tags it with `image` (pull_policy below).
  if (service.build) out.build = { context: `./${buildContextPath(service)}` };

  if (ctx.dependsOn.length > 0) {
    const deps: Record<string, { condition: string }> = {};
    for (const dep of [...ctx.dependsOn].sort((a, b) => compareText(a.name, b.name))) {
      const condition = dep.oneShot ? 'service_completed_successfully' : dep.healthCheck ? 'service_healthy' : 'service_started';
      deps[dep.name] = { condition };
    }
    out.depends_on = deps;
  }

  const volumes: Record<string, unknown>[] = service.volumesFor('compose').map((v) => volumeEntry(platform, service, v));
  if (flavor === 'plain') {
    for (const file of service.configFiles) {
      const entry: Record<string, unknown> = { type: 'bind', source: `./${configFilePath(service, file.name)}`, target: file.mountPath };
      if (file.readOnly) entry.read_only = true;
      volumes.push(entry);
    }
  }
  if (volumes.length > 0) out.volumes = volumes;
  if (flavor === 'coolify' && service.configFiles.length > 0) {
    // The file's text travels inside the compose file (top-level `configs`, see composeConfigs):
    // each deploy recreates the container with the text of that deploy.
    out.configs = service.configFiles.map((file) => ({ source: composeConfigName(service, file.name), target: file.mountPath }));
  }

  const values: Record<string, string> = {};
  for (const [name, value] of Object.entries(service.env)) values[name] = envValue(value, resolver, ctx.secretStyle);
  if (service.security.hostNetwork) values[HOST_NETWORK_ADDRESS_ENV] = node.bindAddress;
  Object.assign(values, amdGpuEnv(platform, service, node));
  const envNames = Object.keys(values).sort();
  if (envNames.length > 0) out.environment = Object.fromEntries(envNames.map((name) => [name, values[name] as string]));

  if (ctx.published.length > 0 && !service.security.hostNetwork) {
    out.ports = [...ctx.published]
      .sort((a, b) => a.port - b.port || compareText(a.protocol, b.protocol))
      .map((p) => ({ target: p.port, published: String(p.port), host_ip: node.bindAddress, protocol: p.protocol }));
  }
  // A host-network container has the host's interfaces and joins no Docker network.
  if (service.security.hostNetwork) out.network_mode = 'host';
  else out.networks = [...ctx.networks].sort();
  const command = service.commandFor('compose');
  if (command) out.command = command.map(escapeDollars);
  if (service.entrypoint) out.entrypoint = service.entrypoint.map(escapeDollars);
  out.restart = service.oneShot ? 'no' : 'unless-stopped';
  if (service.healthCheck) {
    const h = service.healthCheck;
    out.healthcheck = {
      test: healthTest(h),
      interval: seconds(h.intervalSeconds),
      timeout: seconds(h.timeoutSeconds),
      retries: h.retries,
      start_period: seconds(h.startPeriodSeconds),
    };
  }
  out.logging = { driver: 'json-file', options: { 'max-size': '10m', 'max-file': '3' } };
  if (service.security.user) out.user = service.security.user;

  // The rest, alphabetically.
  if (service.security.capAdd) out.cap_add = [...service.security.capAdd];
  if (service.security.capDrop) out.cap_drop = [...service.security.capDrop];
  const deploy: Record<string, unknown> = {
    resources: {
      limits: { cpus: String(service.resources.cpus), memory: composeMemory(service.resources.memoryGb) },
      ...gpuReservation(platform, service, node),
    },
  };
  out.deploy = deploy;
  if (usesAmdGpu(service, node)) {
    // ROCm in a container: the compute interface and the GPUs' render nodes (Ollama's
    // docs/docker.md "AMD GPU"; AMD's device-metrics-exporter docs/installation/docker.md).
    out.devices = [...AMD_GPU_DEVICES];
    // Owner group of /dev/kfd and /dev/dri/renderD* on the host, as ROCm's container docs add it.
    // `render` is not added by name: its gid differs per host and the images' /etc/group lacks it,
    // so Compose could not resolve it; these containers run as root, which needs neither.
    out.group_add = ['video'];
  }
  if (service.security.hostPid) out.pid = 'host';
  if (service.security.privileged) out.privileged = true;
  // Coolify never passes --profile: the Coolify flavour puts profiled services in a file of their own instead.
  if (service.profile && flavor === 'plain') out.profiles = [service.profile];
  // Built here, never pulled: `image` only names the result (a cached build makes this quick).
  if (service.build) out.pull_policy = 'build';
  if (!service.security.privileged) out.security_opt = ['no-new-privileges:true'];
  return out;
}

/** The device nodes a ROCm container needs: the compute interface and the render nodes. */
export const AMD_GPU_DEVICES = ['/dev/kfd', '/dev/dri'] as const;

/** A GPU service or GPU telemetry on a node with AMD GPUs: devices, not an NVIDIA reservation. */
function usesAmdGpu(service: Service, node: Node): boolean {
  return (service.gpu !== undefined || service.gpuTelemetry) && node.gpuVendor === 'amd';
}

/**
 * Which GPUs of a multi-GPU AMD node the service sees: every render node is passed in, and ROCm
 * enumerates only the indices in ROCR_VISIBLE_DEVICES (the ROCm counterpart of `device_ids`).
 */
function amdGpuEnv(platform: Platform, service: Service, node: Node): Record<string, string> {
  if (!usesAmdGpu(service, node) || !service.gpu || node.gpus.length <= 1) return {};
  return { ROCR_VISIBLE_DEVICES: platform.gpuDevices(service, node).join(',') };
}

function gpuReservation(platform: Platform, service: Service, node: Node): Record<string, unknown> {
  if (usesAmdGpu(service, node)) return {};
  if (service.gpuTelemetry) {
    return { reservations: { devices: [{ driver: 'nvidia', count: 'all', capabilities: ['gpu', 'utility'] }] } };
  }
  if (!service.gpu) return {};
  const devices = platform.gpuDevices(service, node);
  const device: Record<string, unknown> = { driver: 'nvidia' };
  if (node.gpus.length > 1) device.device_ids = devices.map(String);
  else device.count = 1;
  device.capabilities = ['gpu'];
  return { reservations: { devices: [device] } };
}
