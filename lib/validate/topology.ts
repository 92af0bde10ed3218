import type { Platform } from '../model/platform.js';
import type { Finding } from './finding.js';

/**
 * A service in an isolated zone that is dialled from another zone and itself dials a third one
 * bridges zones the isolation was meant to keep apart: whoever reaches it can go on through it.
 */
export function isolatedZoneBridges(platform: Platform): Finding[] {
  const findings: Finding[] = [];
  for (const service of platform.services) {
    if (!service.zone.isolated) continue;
    const inbound = platform.consumersOf(service).filter((c) => c.from.zone !== service.zone);
    const outbound = service.connections.filter((c) => c.to.zone !== service.zone && !inbound.some((i) => i.from.zone === c.to.zone));
    if (inbound.length === 0 || outbound.length === 0) continue;
    const from = [...new Set(inbound.map((c) => `${c.from.name} (${c.from.zone.name})`))].join(', ');
    const to = [...new Set(outbound.map((c) => `${c.to.name} (${c.to.zone.name})`))].join(', ');
    findings.push({
      rule: 'isolated-zone-bridge',
      severity: 'warning',
      path: [...service.configPath, 'zone'],
      message: `${service.name} in isolated zone ${service.zone.name} is reached from ${from} and reaches ${to}: a path across the zone boundary`,
      fix: `keep it to one side (services.${service.name}.zone), or accept it knowingly`,
    });
  }
  return findings;
}
