import type { ConfigPath } from './errors.js';
import type { AppAuth, AppConfig } from './schema.js';

/*
 * The defaults of `apps.<name>`, applied in one place: the shorthands (`port`, `healthPath`,
 * `route`) become the lists and objects they stand for, so the cross-field checks and the UserApp
 * construct read the same resolved app. Nothing here rejects anything; checks.ts does.
 */

/** Name of the port the `port` shorthand declares. */
export const SHORTHAND_PORT_NAME = 'http';

export interface AppPort {
  readonly name: string;
  readonly port: number;
  readonly protocol: 'http' | 'tcp' | 'udp';
  /** The port's own `auth`, else the app's. */
  readonly auth: AppAuth;
  /** Where it is configured, for messages. */
  readonly configPath: ConfigPath;
}

/** The ports of a container app: `ports`, or the one HTTP port of the `port` shorthand. */
export function appPorts(name: string, app: AppConfig): AppPort[] {
  if (app.ports) {
    return app.ports.map((p, index) => ({ name: p.name, port: p.port, protocol: p.protocol, auth: p.auth ?? app.auth, configPath: ['apps', name, 'ports', index] }));
  }
  if (app.port !== undefined) return [{ name: SHORTHAND_PORT_NAME, port: app.port, protocol: 'http', auth: app.auth, configPath: ['apps', name, 'port'] }];
  return [];
}

/** The port a number or name refers to (numbers match tcp/http ports: routes, health and metrics are TCP). */
export function findAppPort(ports: readonly AppPort[], ref: number | string): AppPort | undefined {
  return typeof ref === 'number' ? ports.find((p) => p.port === ref && p.protocol !== 'udp') : ports.find((p) => p.name === ref);
}

export type AppHealth =
  | { readonly kind: 'http'; readonly path: string; readonly port: number | undefined }
  | { readonly kind: 'tcp'; readonly port: number }
  | { readonly kind: 'command'; readonly command: readonly string[] };

/** The health check: `health`, or `healthPath` (default `/`) as an HTTP check on the first port. */
export function appHealth(name: string, app: AppConfig): { check: AppHealth; configPath: ConfigPath } {
  const health = app.health;
  if (health?.command) return { check: { kind: 'command', command: health.command }, configPath: ['apps', name, 'health', 'command'] };
  if (health?.tcp !== undefined) return { check: { kind: 'tcp', port: health.tcp }, configPath: ['apps', name, 'health', 'tcp'] };
  const firstPort = appPorts(name, app)[0]?.port;
  if (health?.http !== undefined) {
    return { check: { kind: 'http', path: health.http, port: health.port ?? firstPort }, configPath: ['apps', name, 'health', health.port !== undefined ? 'port' : 'http'] };
  }
  return { check: { kind: 'http', path: app.healthPath ?? '/', port: firstPort }, configPath: ['apps', name, app.healthPath !== undefined ? 'healthPath' : 'port'] };
}

export interface AppRoute {
  readonly host: string;
  /** The app port it proxies to (by number or name as written; resolve with findAppPort). Undefined for static apps. */
  readonly port: number | string | undefined;
  readonly auth: boolean;
  /** `auth` as written, when it was. */
  readonly explicitAuth: boolean | undefined;
  readonly cors: readonly string[];
  readonly configPath: ConfigPath;
}

/**
 * Its sites: `routes`, or the `route` shorthand to the first port. Caddy's basic auth defaults on
 * for a route to a port whose auth is `basic` (the port's own, else the app's).
 */
export function appRoutes(name: string, app: AppConfig): AppRoute[] {
  const ports = appPorts(name, app);
  const firstPort = ports[0]?.port;
  const basic = (port: number | string | undefined) =>
    (port === undefined ? app.auth : (findAppPort(ports, port)?.auth ?? app.auth)) === 'basic';
  if (app.routes) {
    return app.routes.map((r, index) => {
      const port = r.port ?? firstPort;
      return { host: r.host, port, auth: r.auth ?? basic(port), explicitAuth: r.auth, cors: r.cors, configPath: ['apps', name, 'routes', index] };
    });
  }
  if (app.route) {
    const r = app.route;
    const port = app.kind === 'static' ? undefined : firstPort;
    return [{ host: r.host, port, auth: r.auth ?? basic(port), explicitAuth: r.auth, cors: r.cors, configPath: ['apps', name, 'route'] }];
  }
  return [];
}

/** The name a data volume of an app is rendered with (compose volume, PVC): `<app>-<name>`, like the platform's own `ollama-models`. */
export function appVolumeName(app: string, volume: string): string {
  return `${app}-${volume}`;
}

/** The GPUs an app asks for: `gpus`, or as many as `gpuDevices` pins. */
export function appGpuCount(app: AppConfig): number | 'all' | undefined {
  return app.gpus ?? app.gpuDevices?.length;
}
