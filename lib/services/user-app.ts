import { appGpuCount, appHealth, appPorts, appVolumeName, type AppPort } from '../config/apps.js';
import type { AppAuth, AppConfig } from '../config/schema.js';
import { Platform } from '../model/platform.js';
import { Service, type HealthCheckSpec, type PortAuthentication, type PortSpec, type VolumeSpec } from '../model/service.js';
import type { Node } from '../model/node.js';
import type { Stack } from '../model/stack.js';
import type { Zone } from '../model/zone.js';
import type { EnvValue } from '../model/values.js';

export interface UserAppProps {
  /** The app as configured under `apps.<name>` (checked by the config's cross-field checks). */
  readonly config: AppConfig;
  readonly zone: Zone;
  readonly node: Node;
}

/**
 * What a port's `authentication` is for each way an app can authenticate. `basic` is Caddy's
 * password in front of the app's routes: the port itself still answers anyone who reaches it.
 */
const PORT_AUTHENTICATION: Readonly<Record<AppAuth, PortAuthentication>> = {
  none: 'none',
  basic: 'none',
  login: 'password',
  token: 'token',
};

function portSpec(port: AppPort): PortSpec {
  return {
    name: port.name,
    port: port.port,
    protocol: port.protocol === 'udp' ? 'udp' : 'tcp',
    http: port.protocol === 'http',
    authentication: PORT_AUTHENTICATION[port.auth],
  };
}

function healthCheck(name: string, app: AppConfig): HealthCheckSpec {
  const { check } = appHealth(name, app);
  const timing = { via: app.health?.via, startPeriodSeconds: app.health?.startPeriodSeconds };
  switch (check.kind) {
    case 'command':
      return { exec: check.command, startPeriodSeconds: timing.startPeriodSeconds };
    case 'tcp':
      // A TCP check needs a program that opens a socket; bash's /dev/tcp is the default.
      return { tcp: { port: check.port }, ...timing };
    case 'http':
      return { http: { port: check.port as number, path: check.path }, ...timing };
  }
}

function volumeSpec(app: string, volume: AppConfig['volumes'][number]): VolumeSpec {
  if (volume.hostPath !== undefined) return { hostPath: volume.hostPath, mountPath: volume.mountPath, readOnly: volume.readOnly };
  return {
    name: appVolumeName(app, volume.name as string),
    mountPath: volume.mountPath,
    sizeGb: volume.sizeGb ?? 10,
    readOnly: volume.readOnly,
    // Backed-up state unless the owner says it is a cache that can be rebuilt.
    holds: (volume.backup ?? true) ? 'state' : 'cache',
  };
}

/**
 * One of the owner's own container apps (an API, a worker, a vLLM server, a vector database),
 * described in `apps.<name>` and mapped onto the same ServiceProps as the built-in services:
 * renderers, rules and the graph treat it like any other service. Its connections are declared
 * after every service exists; each adds `<NAME>_HOST`, `<NAME>_PORT` and, for HTTP, `<NAME>_URL`.
 */
export class UserApp extends Service {
  constructor(stack: Stack, name: string, props: UserAppProps) {
    const platform = Platform.of(stack);
    const app = props.config;
    const env: Record<string, EnvValue> = { ...app.env };
    for (const secret of app.secrets) {
      env[secret] = platform.secrets.find((s) => s.name === secret) ?? platform.secret(secret, { generate: 'password', description: `secret of app ${name}` });
    }
    const gpuCount = appGpuCount(app);
    const metricsPort = app.metrics ? (app.metrics.port ?? appPorts(name, app)[0]?.port) : undefined;
    super(stack, name, {
      image: app.image as string,
      zone: props.zone,
      nodes: [props.node],
      configPath: ['apps', name],
      description: `App ${name}`,
      entrypoint: app.command,
      command: app.args,
      env,
      ports: appPorts(name, app).map(portSpec),
      volumes: app.volumes.map((v) => volumeSpec(name, v)),
      healthCheck: healthCheck(name, app),
      resources: { cpus: app.cpus, memoryGb: app.memoryGb },
      gpu: gpuCount === undefined ? undefined : { count: gpuCount, devices: app.gpuDevices, vramGb: app.vramGb },
      metrics: app.metrics && metricsPort !== undefined ? { port: metricsPort, path: app.metrics.path } : undefined,
      egress: app.egress ? [{ host: 'internet', why: `declared by apps.${name}.egress` }] : [],
    });
  }
}
