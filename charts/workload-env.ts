import type * as k8s from './k8s.js';
import { secretObjectName } from '../lib/k3s/names.js';
import { K3sResolver } from '../lib/k3s/resolver.js';
import { Secret } from '../lib/model/secret.js';
import { HOST_NETWORK_ADDRESS_ENV, type Service } from '../lib/model/service.js';
import { EnvTemplate, escapeDollars, type EnvValue } from '../lib/model/values.js';

/**
 * A container's environment. Secrets first, as secretKeyRef variables, so later values can use
 * them as `$(NAME)`; then what the runtime tells the pod (its node's name, its host address);
 * then the service's variables, sorted.
 */
export function containerEnvironment(service: Service): k8s.EnvVar[] {
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

function envValue(value: EnvValue, resolver: K3sResolver): string {
  if (typeof value === 'string') return escapeDollars(value);
  if (value instanceof Secret) return `$(${value.name})`;
  if (value instanceof EnvTemplate) return value.parts.map((p) => envValue(p, resolver)).join('');
  return escapeDollars(value(resolver));
}
