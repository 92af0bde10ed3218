/**
 * The API server's own validation of the objects the k3s target renders: the rules the OpenAPI
 * schema (what `kubernetes-models` checks) does not encode, so a `kubectl apply --dry-run=server`
 * or an ArgoCD sync would refuse what the schema accepts. Each rule names the function of the
 * upstream source it follows (as of Kubernetes 1.33):
 *   core:  pkg/apis/core/validation/validation.go
 *   apps:  pkg/apis/apps/validation/validation.go
 *   names: staging/src/k8s.io/apimachinery/pkg/util/validation/validation.go
 *   meta:  staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/validation/validation.go
 */
import type { AnyObject } from './k3s.js';

// names: IsDNS1123Label / IsDNS1123Subdomain / IsDNS1035Label.
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
// names: IsQualifiedName (the name part) and IsValidLabelValue.
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
// names: IsEnvVarName (the portable form: what every runtime and shell accepts).
const ENV_VAR_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
// names: IsConfigMapKey.
const CONFIG_MAP_KEY = /^[-._a-zA-Z0-9]+$/;

function dnsLabel(value: string, max = 63): string | undefined {
  if (value.length > max) return `must be no more than ${max} characters`;
  return DNS1123_LABEL.test(value) ? undefined : 'must be a lowercase RFC 1123 label';
}

function dnsSubdomain(value: string): string | undefined {
  if (value.length > 253) return 'must be no more than 253 characters';
  return DNS1123_SUBDOMAIN.test(value) ? undefined : 'must be a lowercase RFC 1123 subdomain';
}

/** names: IsValidPortName (IANA_SVC_NAME, RFC 6335). */
function portName(value: string): string | undefined {
  if (value.length === 0 || value.length > 15) return 'must be 1 to 15 characters (IANA_SVC_NAME)';
  if (!/^[-a-z0-9]+$/.test(value)) return 'must contain only lowercase letters, digits and "-"';
  if (!/[a-z]/.test(value)) return 'must contain at least one letter';
  if (value.includes('--') || value.startsWith('-') || value.endsWith('-')) return 'must not begin or end with "-" or hold "--"';
  return undefined;
}

/** meta: ValidateLabels (keys are qualified names, values at most 63 characters). */
function labels(map: Record<string, string> | undefined, path: string, errors: string[]): void {
  for (const [key, value] of Object.entries(map ?? {})) {
    const [prefix, name] = key.includes('/') ? (key.split('/', 2) as [string, string]) : [undefined, key];
    if (prefix !== undefined && dnsSubdomain(prefix)) errors.push(`${path}: key ${key}: prefix ${dnsSubdomain(prefix)}`);
    if (name.length > 63 || !QUALIFIED_NAME.test(name)) errors.push(`${path}: key ${key} is not a qualified name`);
    if (typeof value !== 'string') errors.push(`${path}.${key}: value must be a string`);
    else if (value.length > 63 || (value !== '' && !QUALIFIED_NAME.test(value))) errors.push(`${path}.${key}: value ${JSON.stringify(value)} is not a valid label value`);
  }
}

function port(value: unknown, path: string, errors: string[]): void {
  if (typeof value === 'number' && (!Number.isInteger(value) || value < 1 || value > 65535)) errors.push(`${path}: ${value} must be 1-65535`);
  if (typeof value === 'string' && portName(value)) errors.push(`${path}: ${value} ${portName(value)}`);
}

/** core: validateProbe / validateHandler (the port of an httpGet or tcpSocket). */
function probe(p: AnyObject, path: string, containerPorts: Set<string>, errors: string[]): void {
  if (!p) return;
  const handler = p.httpGet ?? p.tcpSocket;
  if (handler) {
    port(handler.port, `${path}.port`, errors);
    if (typeof handler.port === 'string' && !containerPorts.has(handler.port)) errors.push(`${path}.port: no container port named ${handler.port}`);
  }
}

/** core: ValidatePodSpec, validateContainers, validateContainerPorts, ValidateEnv, ValidateVolumes. */
function podSpec(spec: AnyObject, path: string, claimTemplates: readonly string[], errors: string[]): void {
  const volumeNames = new Set<string>();
  for (const [i, v] of (spec.volumes ?? []).entries()) {
    const problem = dnsLabel(v.name);
    if (problem) errors.push(`${path}.volumes[${i}].name: ${v.name} ${problem}`);
    if (volumeNames.has(v.name)) errors.push(`${path}.volumes[${i}].name: duplicate ${v.name}`);
    volumeNames.add(v.name);
  }
  const containerNames = new Set<string>();
  const all = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
  if ((spec.containers ?? []).length === 0) errors.push(`${path}.containers: Required value`);
  for (const [i, c] of all.entries()) {
    const cpath = `${path}.containers[${i}]`;
    const problem = dnsLabel(c.name);
    if (problem) errors.push(`${cpath}.name: ${c.name} ${problem}`);
    if (containerNames.has(c.name)) errors.push(`${cpath}.name: duplicate ${c.name}`);
    containerNames.add(c.name);
    if (!c.image) errors.push(`${cpath}.image: Required value`);
    const portNames = new Set<string>();
    const hostPorts = new Set<string>();
    for (const [j, p] of (c.ports ?? []).entries()) {
      port(p.containerPort, `${cpath}.ports[${j}].containerPort`, errors);
      if (p.name !== undefined) {
        const bad = portName(p.name);
        if (bad) errors.push(`${cpath}.ports[${j}].name: ${p.name} ${bad}`);
        if (portNames.has(p.name)) errors.push(`${cpath}.ports[${j}].name: duplicate ${p.name}`);
        portNames.add(p.name);
      }
      const key = `${p.containerPort}/${p.protocol ?? 'TCP'}`;
      if (hostPorts.has(key)) errors.push(`${cpath}.ports[${j}]: duplicate ${key}`);
      hostPorts.add(key);
    }
    const envNames = new Set<string>();
    for (const [j, e] of (c.env ?? []).entries()) {
      if (!ENV_VAR_NAME.test(e.name ?? '')) errors.push(`${cpath}.env[${j}].name: ${e.name} is not a valid environment variable name`);
      if (e.value !== undefined && e.valueFrom !== undefined) errors.push(`${cpath}.env[${j}]: value and valueFrom are exclusive`);
      if (envNames.has(e.name)) errors.push(`${cpath}.env[${j}].name: duplicate ${e.name}`);
      envNames.add(e.name);
      const ref = e.valueFrom?.secretKeyRef ?? e.valueFrom?.configMapKeyRef;
      if (ref && (dnsSubdomain(ref.name ?? '') || !CONFIG_MAP_KEY.test(ref.key ?? ''))) errors.push(`${cpath}.env[${j}].valueFrom: bad name or key`);
    }
    const mounts = new Set<string>();
    for (const [j, m] of (c.volumeMounts ?? []).entries()) {
      if (!volumeNames.has(m.name) && !claimTemplates.includes(m.name)) errors.push(`${cpath}.volumeMounts[${j}].name: no volume named ${m.name}`);
      if (mounts.has(m.mountPath)) errors.push(`${cpath}.volumeMounts[${j}].mountPath: ${m.mountPath} must be unique`);
      mounts.add(m.mountPath);
    }
    probe(c.livenessProbe, `${cpath}.livenessProbe`, portNames, errors);
    probe(c.readinessProbe, `${cpath}.readinessProbe`, portNames, errors);
    for (const kind of ['requests', 'limits'] as const) {
      for (const resource of Object.keys(c.resources?.[kind] ?? {})) {
        if (resource.startsWith('nvidia.com/') && kind === 'requests' && c.resources.requests[resource] !== c.resources.limits?.[resource]) {
          // core: validateBasicResource / ValidateResourceRequirements: extended resources cannot overcommit.
          errors.push(`${cpath}.resources.requests.${resource}: must equal the limit`);
        }
      }
    }
  }
}

/** apps: ValidateDeploymentSpec / ValidateStatefulSetSpec / ValidateDaemonSetSpec ("selector does not match template labels"). */
function selectorMatches(object: AnyObject, errors: string[]): void {
  const selector = object.spec.selector?.matchLabels ?? {};
  const template = object.spec.template?.metadata?.labels ?? {};
  if (Object.keys(selector).length === 0 && !object.spec.selector?.matchExpressions) errors.push(`spec.selector: empty selector is invalid for ${object.kind}`);
  for (const [k, v] of Object.entries(selector)) {
    if (template[k] !== v) errors.push(`spec.template.metadata.labels: selector does not match template labels (${k}=${String(v)})`);
  }
}

/**
 * core: ValidateService (validateServicePort, port names) and its rule
 * `len(service.Spec.Ports) == 0 && !isHeadlessService && service.Spec.Type != core.ServiceTypeExternalName`
 * -> `field.Required(spec.ports)`; the name: `ValidateServiceName = NameIsDNS1035Label`.
 */
function service(object: AnyObject, errors: string[]): void {
  const spec = object.spec ?? {};
  const headless = spec.clusterIP === 'None';
  const ports: AnyObject[] = spec.ports ?? [];
  if (ports.length === 0 && !headless && spec.type !== 'ExternalName') errors.push('spec.ports: Required value (only a headless or ExternalName Service may have none)');
  const names = new Set<string>();
  const keys = new Set<string>();
  for (const [i, p] of ports.entries()) {
    if (ports.length > 1 && !p.name) errors.push(`spec.ports[${i}].name: Required value when there is more than one port`);
    if (p.name) {
      const bad = portName(p.name);
      if (bad) errors.push(`spec.ports[${i}].name: ${p.name} ${bad}`);
      if (names.has(p.name)) errors.push(`spec.ports[${i}].name: duplicate ${p.name}`);
      names.add(p.name);
    }
    port(p.port, `spec.ports[${i}].port`, errors);
    if (p.targetPort !== undefined) port(p.targetPort, `spec.ports[${i}].targetPort`, errors);
    const key = `${p.port}/${p.protocol ?? 'TCP'}`;
    if (keys.has(key)) errors.push(`spec.ports[${i}]: duplicate ${key}`);
    keys.add(key);
  }
  if (spec.externalTrafficPolicy && spec.type !== 'LoadBalancer' && spec.type !== 'NodePort') errors.push('spec.externalTrafficPolicy: only for LoadBalancer and NodePort');
}

/** Kinds whose names are DNS-1123 labels or DNS-1035 labels rather than subdomains. */
const NAME_RULES: Record<string, (name: string) => string | undefined> = {
  // core: ValidateNamespaceName (DNS-1123 label); ValidateServiceName (DNS-1035 label).
  Namespace: (name) => dnsLabel(name),
  Service: (name) => (name.length > 63 || !DNS1035_LABEL.test(name) ? 'must be an RFC 1035 label (a letter first, at most 63)' : undefined),
  // The StatefulSet controller makes each pod's hostname `<name>-<ordinal>`, and core's
  // ValidatePodSpec requires a hostname to be a DNS-1123 label.
  StatefulSet: (name) => dnsLabel(name, 63),
};

/** Every problem the API server would find in one object (empty when it would accept it). */
export function apiServerProblems(object: AnyObject): string[] {
  const errors: string[] = [];
  const meta = object.metadata ?? {};
  const nameProblem = (NAME_RULES[object.kind] ?? dnsSubdomain)(meta.name ?? '');
  if (nameProblem) errors.push(`metadata.name: ${meta.name} ${nameProblem}`);
  if (meta.namespace !== undefined && dnsLabel(meta.namespace)) errors.push(`metadata.namespace: ${meta.namespace} ${dnsLabel(meta.namespace)}`);
  labels(meta.labels, 'metadata.labels', errors);
  switch (object.kind) {
    case 'Service':
      service(object, errors);
      break;
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet': {
      selectorMatches(object, errors);
      labels(object.spec.template?.metadata?.labels, 'spec.template.metadata.labels', errors);
      const claims = (object.spec.volumeClaimTemplates ?? []).map((c: AnyObject) => c.metadata.name);
      podSpec(object.spec.template.spec, 'spec.template.spec', claims, errors);
      if (object.kind === 'StatefulSet' && !object.spec.serviceName) errors.push('spec.serviceName: Required value');
      if (object.kind === 'Deployment' && object.spec.strategy?.type === 'Recreate' && object.spec.strategy.rollingUpdate) errors.push('spec.strategy.rollingUpdate: forbidden with Recreate');
      break;
    }
    case 'Job': {
      podSpec(object.spec.template.spec, 'spec.template.spec', [], errors);
      // batch validation: a Job's pods restart OnFailure or Never.
      if (!['OnFailure', 'Never'].includes(object.spec.template.spec.restartPolicy)) errors.push('spec.template.spec.restartPolicy: must be OnFailure or Never');
      break;
    }
    case 'ConfigMap':
      for (const key of Object.keys(object.data ?? {})) if (key.length > 253 || !CONFIG_MAP_KEY.test(key)) errors.push(`data.${key}: not a valid ConfigMap key`);
      break;
    case 'EndpointSlice':
      // discovery validation: ValidateEndpointSlice (addresses of the addressType, port names, the service label).
      for (const [i, e] of (object.endpoints ?? []).entries()) {
        for (const address of e.addresses ?? []) if (!/^(\d{1,3}\.){3}\d{1,3}$/.test(address)) errors.push(`endpoints[${i}].addresses: ${address} is not IPv4`);
      }
      for (const [i, p] of (object.ports ?? []).entries()) {
        if (p.name && portName(p.name)) errors.push(`ports[${i}].name: ${p.name} ${portName(p.name)}`);
      }
      break;
    case 'HorizontalPodAutoscaler':
      // autoscaling validation: validateHorizontalPodAutoscalerSpec.
      if ((object.spec.minReplicas ?? 1) > object.spec.maxReplicas) errors.push('spec.maxReplicas: must be at least minReplicas');
      break;
  }
  return errors;
}
