import { REFERENCE_ZONES } from './schema.js';

/**
 * Every key of platform.yaml is optional, inside maps too: a `zones:` block names only what it
 * changes. Each reference zone stays, a zone given under a reference name is merged field by field
 * over the reference one (`zones: { gpu: { multus: true } }` keeps VLAN 30 and its subnet), and a
 * zone with a new name is taken as written, and a zone set to null (`dmz: ~`) is removed. Anything
 * that is not a map is left for the schema to report.
 */
export function withReferenceZones(data: unknown): unknown {
  if (!isMap(data) || !isMap(data.zones)) return data;
  const zones: Record<string, unknown> = { ...REFERENCE_ZONES };
  for (const [name, zone] of Object.entries(data.zones)) {
    const reference = (REFERENCE_ZONES as Record<string, object>)[name];
    if (zone === null) delete zones[name];
    else zones[name] = reference && isMap(zone) ? { ...reference, ...zone } : zone;
  }
  return { ...data, zones };
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
