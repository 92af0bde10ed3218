import type { AnyObject } from './k3s.js';

/** A pod as NetworkPolicies see it: its namespace (and that namespace's labels), its labels, its address. */
export interface PodRef {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Address, for ipBlock peers; pods have cluster addresses, outside machines their LAN address. */
  readonly ip?: string;
}

function matches(selector: AnyObject | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const expr of selector.matchExpressions ?? []) {
    const value = labels[expr.key];
    if (expr.operator === 'In' && !(value !== undefined && expr.values.includes(value))) return false;
    if (expr.operator === 'NotIn' && value !== undefined && expr.values.includes(value)) return false;
    if (expr.operator === 'Exists' && value === undefined) return false;
    if (expr.operator === 'DoesNotExist' && value !== undefined) return false;
  }
  return true;
}

function ipToInt(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/') as [string, string];
  const prefix = Number(bits);
  if (prefix === 0) return true;
  const mask = (~0 << (32 - prefix)) >>> 0;
  return ((ipToInt(ip) & mask) >>> 0) === ((ipToInt(base) & mask) >>> 0);
}

function peerMatches(peer: AnyObject, pod: PodRef, policyNamespace: string): boolean {
  if (peer.ipBlock) {
    if (!pod.ip || !inCidr(pod.ip, peer.ipBlock.cidr)) return false;
    return !(peer.ipBlock.except ?? []).some((c: string) => inCidr(pod.ip as string, c));
  }
  const nsLabels = { 'kubernetes.io/metadata.name': pod.namespace };
  if (peer.namespaceSelector === undefined && pod.namespace !== policyNamespace) return false;
  if (peer.namespaceSelector !== undefined && !matches(peer.namespaceSelector, nsLabels)) return false;
  return matches(peer.podSelector, pod.labels);
}

function portMatches(rulePorts: AnyObject[] | undefined, port: number, protocol: string): boolean {
  if (!rulePorts || rulePorts.length === 0) return true;
  return rulePorts.some((p) => (p.protocol ?? 'TCP') === protocol && (p.port === undefined || p.port === port));
}

/**
 * Whether one direction is allowed for `pod` by the policies of its namespace: isolated when
 * some policy selects it for that direction, and then allowed only when a rule matches.
 */
function allowedBy(policies: AnyObject[], pod: PodRef, direction: 'Ingress' | 'Egress', peer: PodRef, port: number, protocol: string): boolean {
  const selecting = policies.filter(
    (p) => p.metadata.namespace === pod.namespace && matches(p.spec.podSelector, pod.labels) && (p.spec.policyTypes ?? ['Ingress']).includes(direction),
  );
  if (selecting.length === 0) return true;
  return selecting.some((p) => {
    const rules = direction === 'Ingress' ? (p.spec.ingress ?? []) : (p.spec.egress ?? []);
    return rules.some((rule: AnyObject) => {
      const peers = direction === 'Ingress' ? rule.from : rule.to;
      const peerOk = !peers || peers.length === 0 || peers.some((x: AnyObject) => peerMatches(x, peer, p.metadata.namespace));
      return peerOk && portMatches(rule.ports, port, protocol);
    });
  });
}

/** A connection from `from` to `to` on port/protocol gets through: egress at the source and ingress at the destination. */
export function connectionAllowed(policies: AnyObject[], from: PodRef, to: PodRef, port: number, protocol = 'TCP', toInCluster = true): boolean {
  const out = allowedBy(policies, from, 'Egress', to, port, protocol);
  return toInCluster ? out && allowedBy(policies, to, 'Ingress', from, port, protocol) : out;
}
