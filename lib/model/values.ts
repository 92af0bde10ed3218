import type { Node } from './node.js';
import type { Secret } from './secret.js';
import type { Service, Target } from './service.js';

/**
 * How one service reaches another, answered by the target being rendered: a compose service name
 * or the other node's address for Compose, cluster DNS for k3s. Config files and environment
 * values that name another service are functions of it, so the service is described once.
 */
export interface Resolver {
  readonly target: Target;
  /** The service whose files and environment are being rendered. */
  readonly from: Service;
  /** The node of the instance being rendered (per-node services render once per node). */
  readonly node: Node;
  /** Host and port `from` dials to reach `to` on `port`. For a per-node service, its instance on `from`'s node. */
  address(to: Service, port: number): { host: string; port: number };
  /** Every instance of `to` (one per node for per-node services), with the address `from` dials. */
  instances(to: Service, port: number): { node: Node; host: string; port: number }[];
  /** `http://host:port<path>`. */
  url(to: Service, port: number, path?: string): string;
}

/**
 * A literal `$` as both targets write it: Compose interpolates `${X}`, Kubernetes expands `$(X)`
 * in env values, commands and args, and both read `$$` as one `$`.
 */
export function escapeDollars(text: string): string {
  return text.replace(/\$/g, '$$$$');
}

/** A value computed at render time from the target's view of the network. */
export type Lazy = (resolve: Resolver) => string;

/** Parts joined into one environment value; secrets stay references. */
export class EnvTemplate {
  constructor(readonly parts: readonly (string | Secret | Lazy)[]) {}
}

/** `interpolate\`postgresql://${user}:${password}@${host}/db\`` with secrets and lazies kept as references. */
export function interpolate(strings: TemplateStringsArray, ...values: (string | Secret | Lazy)[]): EnvTemplate {
  const parts: (string | Secret | Lazy)[] = [];
  strings.forEach((text, i) => {
    if (text !== '') parts.push(text);
    const value = values[i];
    if (value !== undefined) parts.push(value);
  });
  return new EnvTemplate(parts);
}

export type EnvValue = string | Secret | Lazy | EnvTemplate;

/** `video-worker` -> `VIDEO_WORKER`: the prefix of the connection variables a client receives. */
export function envPrefix(name: string): string {
  return name.toUpperCase().replace(/-/g, '_');
}
