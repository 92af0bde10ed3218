import { isPrivateAddress } from '../model/ipv4.js';
import type { Platform } from '../model/platform.js';
import type { Finding } from './finding.js';

/** Admin UIs with no login of their own (their descriptors say so): a public route to them needs Caddy's basic auth. */

export function adminWithoutAuth(platform: Platform): Finding[] {
  if (platform.config.exposure !== 'public') return [];
  return platform.routes
    .filter((r) => r.service?.adminWithoutLogin === true && !r.auth)
    .map((r) => ({
      rule: 'public-admin-without-auth',
      severity: 'error' as const,
      path: [...r.configPath],
      message: `${platform.fqdn(r.host)} puts ${r.service?.name}'s admin UI, which has no login, on the internet without basic auth`,
      fix: 'turn on auth for the route, or use exposure tailnet/lan',
    }));
}

/** Ollama and ComfyUI answer anyone: they belong in a zone the edge cannot reach. */
export function inferenceExposure(platform: Platform): Finding[] {
  const findings: Finding[] = [];
  const edgeZones = new Set(platform.services.filter((s) => s.ports.some((p) => p.entry)).map((s) => s.zone));
  // Inference APIs (their descriptors say so) answer anyone who reaches them.
  for (const service of platform.services.filter((s) => s.inference)) {
    if (!edgeZones.has(service.zone)) continue;
    const name = service.name;
    const port = service.primaryPort?.port;
    findings.push({
      rule: 'inference-exposed',
      severity: 'error',
      path: [...service.configPath, 'zone'],
      message: `${name} (${port}, no authentication) is in zone ${service.zone.name}, beside the edge: anything compromised there reaches it directly`,
      fix: `keep ${name} in an isolated zone (services.${name}.zone: gpu)`,
    });
  }
  const origins = platform.service('ollama')?.env.OLLAMA_ORIGINS;
  if (typeof origins === 'string' && origins.split(',').some((o) => o.trim() === '*')) {
    findings.push({
      rule: 'ollama-origins-wildcard',
      severity: 'error',
      path: ['services', 'ollama', 'env', 'OLLAMA_ORIGINS'],
      message: 'OLLAMA_ORIGINS=* lets any web page a user visits call Ollama from their browser',
      fix: `list the origins that need it, e.g. https://${platform.fqdn('chat')}, or remove the variable`,
    });
  }
  return findings;
}

/** A node whose published ports would bind every interface. */
export function bindAllInterfaces(platform: Platform): Finding[] {
  const findings: Finding[] = [];
  for (const node of platform.deployedNodes) {
    const published = platform.linkPlan.published(node);
    if (node.bindAddress !== '0.0.0.0' || published.length === 0) continue;
    const key = platform.config.exposure === 'tailnet' ? 'tailscaleAddress' : 'address';
    findings.push({
      rule: 'bind-all-interfaces',
      severity: platform.config.exposure === 'public' ? 'warning' : 'error',
      path: ['nodes', node.name, key],
      message: `${node.name}'s ${key} is 0.0.0.0, so its published ports (${published.map((h) => `${h.port}/${h.protocol}`).join(', ')}) listen on every interface, not only the ${platform.config.exposure} one`,
      fix: `set nodes.${node.name}.${key} to the node's ${platform.config.exposure === 'tailnet' ? 'Tailscale (100.x.y.z)' : 'LAN'} address`,
    });
  }
  return findings;
}

/**
 * Every published port of a service that answers anyone (its port declares `authentication:
 * 'none'`): published for a caller on another node, it is open to everything on that node's
 * network. Under `public`, a port on a node that also receives the internet's forwarded entry
 * ports (its address is where the router points 80/443/53; a DMZ-host or forwarding slip puts
 * everything on it online) is an error; elsewhere a warning, since the LAN or tailnet is trusted
 * more but not blindly. Entry ports are public by design and not reported.
 */
export function unauthenticatedPorts(platform: Platform): Finding[] {
  const findings: Finding[] = [];
  const entryNodes = new Set(platform.linkPlan.entryNodes);
  for (const node of platform.deployedNodes) {
    for (const hp of platform.linkPlan.published(node)) {
      const spec = hp.service.ports.find((p) => p.port === hp.port && p.protocol === hp.protocol);
      if (!spec || spec.entry || spec.authentication !== 'none') continue;
      const caller = hp.dialledBy?.from;
      const callerNodes = hp.dialledBy?.fromNodes.filter((n) => n !== node) ?? [];
      // Behind a router only the forwarded entry ports reach a LAN address; an edge node whose own
      // address is public (a rented server) answers the internet on every published port.
      const error = platform.config.exposure === 'public' && entryNodes.has(node) && !isPrivateAddress(node.bindAddress);
      const where = error ? `the edge node ${node.name}, whose public address the internet reaches` : node.name;
      findings.push({
        rule: 'unauthenticated-port',
        severity: error ? 'error' : 'warning',
        path: caller ? [...caller.configPath, 'node'] : [...hp.service.configPath],
        message:
          `${hp.service.name} answers anyone on ${hp.port}/${hp.protocol} (${spec.name}, no authentication) and is published on ${where} at ${node.bindAddress}:${hp.port}` +
          (caller ? ` for ${caller.name} on ${callerNodes.map((n) => `${n.name} (${n.bindAddress})`).join(', ')}` : ''),
        fix: caller
          ? `run ${caller.name} on ${node.name} (or ${hp.service.name} beside it), use exposure tailnet, or firewall ${node.bindAddress}:${hp.port} to ${callerNodes.map((n) => n.bindAddress).join(', ')}`
          : `do not publish ${hp.service.name}:${hp.port}, or firewall ${node.bindAddress}:${hp.port}`,
      });
    }
  }
  return findings;
}
