import type { Platform } from '../model/platform.js';
import type { Finding } from './finding.js';

/** Coolify's own ports on every server it manages: the dashboard and its realtime/terminal servers. */
export const COOLIFY_PORTS = [8000, 6001, 6002];
/** Coolify's proxy (Traefik): free only once the proxy is set to None. */
export const COOLIFY_PROXY_PORTS = [80, 443, 8080];

/**
 * Host ports that collide with Coolify (the Compose target): its dashboard and realtime ports on
 * the main Coolify host (the first server of the config), its proxy's ports on every server.
 */
export function coolifyPorts(platform: Platform): Finding[] {
  const findings: Finding[] = [];
  const mainHost = platform.deployedNodes.find((n) => n.role === 'server');
  for (const node of platform.deployedNodes) {
    const proxyNoted = new Set<string>();
    const published = platform.linkPlan.published(node);
    for (const hp of published) {
      if (hp.protocol !== 'tcp') continue;
      if (node === mainHost && COOLIFY_PORTS.includes(hp.port)) {
        findings.push({
          rule: 'host-port-coolify',
          severity: 'error',
          path: hp.dialledBy ? [...hp.dialledBy.from.configPath] : [...hp.service.configPath],
          message: `${hp.service.name} would publish ${hp.port}/tcp on ${node.name} (${hp.reason}), the main Coolify host, which uses ${COOLIFY_PORTS.join(', ')} itself`,
          fix: `place ${hp.dialledBy ? `${hp.dialledBy.from.name} on ${node.name}` : `${hp.service.name} on another node`}, so the port is not published`,
        });
      } else if (COOLIFY_PROXY_PORTS.includes(hp.port) && !proxyNoted.has(hp.service.name)) {
        proxyNoted.add(hp.service.name);
        findings.push({
          rule: 'host-port-coolify',
          severity: 'warning',
          path: [...hp.service.configPath],
          message: `${hp.service.name} publishes ${published.filter((p) => p.service === hp.service && COOLIFY_PROXY_PORTS.includes(p.port)).map((p) => `${p.port}/${p.protocol}`).join(', ')} on ${node.name}, which Coolify's proxy holds unless it is turned off`,
          fix: `in Coolify, set the proxy of ${node.name} to None (Servers > Proxy) before deploying ${hp.service.stackName}`,
        });
      }
    }
  }
  return findings;
}

/** Routes must end at a port the service has, and at an edge that serves them. */
export function routeChecks(platform: Platform): Finding[] {
  const findings: Finding[] = [];
  const edge = platform.service('caddy');
  for (const route of platform.routes) {
    const service = route.service;
    if (service && route.port !== undefined && !service.ports.some((p) => p.port === route.port && p.protocol === 'tcp')) {
      findings.push({
        rule: 'route-no-port',
        severity: 'error',
        path: [...route.configPath],
        message: `${platform.fqdn(route.host)} routes to ${service.name}:${route.port}, but ${service.name} listens on ${service.ports.map((p) => `${p.port}/${p.protocol}`).join(', ') || 'no port'}`,
        fix: `route to one of ${service.name}'s ports (apps.${service.name}.port)`,
      });
    }
    if (!edge) {
      findings.push({
        rule: 'route-unreachable',
        severity: 'error',
        path: [...route.configPath],
        message: `${platform.fqdn(route.host)} is routed, but caddy is turned off: nothing serves it`,
        fix: 'turn caddy back on (services.caddy.enabled), or drop the route',
      });
    }
  }
  return findings;
}
