import type * as k8s from './k8s.js';
import type { Service } from '../lib/model/service.js';

/** Capabilities an entrypoint needs to prepare its volumes and drop to its own user (postgres, valkey, minio…). */
const ENTRYPOINT_CAPABILITIES = ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'SETGID', 'SETUID'];

/** The pod's user and group when the image runs as a non-root uid (its volumes are made theirs). */
export function podSecurityContext(service: Service): k8s.PodSecurityContext | undefined {
  const nonRoot = service.runAsUid;
  return nonRoot !== undefined ? { runAsNonRoot: true, runAsUser: nonRoot, runAsGroup: nonRoot, fsGroup: nonRoot } : undefined;
}

/** Drop every capability and forbid escalation; give back only what the service or its entrypoint needs. */
export function containerSecurityContext(service: Service): k8s.SecurityContext {
  const security = service.security;
  if (security.privileged) return { privileged: true };
  const nonRoot = security.nonRootUid !== undefined || security.user !== undefined;
  const add = security.capDrop ? [...(security.capAdd ?? [])] : [...(nonRoot ? [] : ENTRYPOINT_CAPABILITIES), ...(security.capAdd ?? [])];
  // Dropping ALL takes the right to listen below 1024 even from root (Technitium on 53, ntfy on 80).
  if (service.ports.some((p) => p.port < 1024)) add.push('NET_BIND_SERVICE');
  return {
    allowPrivilegeEscalation: false,
    capabilities: { drop: [...(security.capDrop ?? ['ALL'])], add: add.length > 0 ? [...new Set(add)].sort() : undefined },
  };
}
