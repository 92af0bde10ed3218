import * as k8s from './k8s.js';
import { inImageCheck } from '../lib/model/health.js';
import type { EffectiveHealthCheck } from '../lib/model/service.js';

/** A health check as a Kubernetes probe (readiness; liveness adds the start period). */
export function probeFor(h: EffectiveHealthCheck): k8s.Probe {
  const timing = {
    periodSeconds: h.intervalSeconds,
    timeoutSeconds: h.timeoutSeconds,
    failureThreshold: h.retries,
  };
  if (h.exec) return { exec: { command: [...h.exec] }, ...timing };
  if (h.http && h.loopbackOnly) {
    // The kubelet probes the pod address; an endpoint bound to 127.0.0.1 is checked from inside.
    return { exec: { command: inImageCheck(h) }, ...timing };
  }
  if (h.http) return { httpGet: { port: k8s.IntOrString.fromNumber(h.http.port), path: h.http.path }, ...timing };
  if (h.tcp) return { tcpSocket: { port: k8s.IntOrString.fromNumber(h.tcp.port) }, ...timing };
  throw new Error('health check needs http, tcp or exec');
}
