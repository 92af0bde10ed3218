import type { HealthCheckSpec } from './service.js';

/**
 * The health check as a command run inside the container, with the tool the image has: what
 * Compose runs, and what Kubernetes runs for an endpoint that listens on 127.0.0.1 only.
 */
export function inImageCheck(h: HealthCheckSpec): string[] {
  if (h.exec) return [...h.exec];
  const via = h.via ?? 'wget';
  if (h.http) {
    const url = `http://127.0.0.1:${h.http.port}${h.http.path}`;
    switch (via) {
      case 'curl':
        return ['curl', '-fsS', '-o', '/dev/null', url];
      case 'python':
        return ['python3', '-c', `import urllib.request; urllib.request.urlopen('${url}', timeout=5)`];
      case 'bash':
        return ['bash', '-c', `: > /dev/tcp/127.0.0.1/${h.http.port}`];
      default:
        return ['wget', '-q', '-O', '/dev/null', url];
    }
  }
  if (h.tcp) {
    if (via === 'python') return ['python3', '-c', `import socket; socket.create_connection(('127.0.0.1', ${h.tcp.port}), 5)`];
    return ['bash', '-c', `: > /dev/tcp/127.0.0.1/${h.tcp.port}`];
  }
  throw new Error('health check needs http, tcp or exec');
}
