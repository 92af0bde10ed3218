import type { Platform } from '../model/platform.js';
import { backupSameDisk } from './backup.js';
import { nodeCapacity } from './capacity.js';
import { coolifyLiteralSecrets } from './coolify.js';
import { adminWithoutAuth, bindAllInterfaces, inferenceExposure, unauthenticatedPorts } from './exposure.js';
import type { Finding, Rule } from './finding.js';
import { coolifyPorts, routeChecks } from './ports.js';
import { literalSecrets, undeclaredSecrets } from './secrets.js';
import { sovereignty } from './sovereignty.js';
import { isolatedZoneBridges } from './topology.js';
import { amdGpuSharingK3s, gpuOversubscription, k3sGpuPlacement, ramFindings, vramFindings } from './vram.js';
import { compareText } from '../output/order.js';

/**
 * Every rule, by id. Rules without `check` are enforced while the config is loaded and the model
 * is built (a config that breaks them cannot be rendered); validate reports them the same way.
 */
export const RULES: readonly Rule[] = [
  { id: 'config', description: 'The config matches the schema and its cross-field checks.' },
  { id: 'vram-budget', description: 'The models resident at once on a GPU fit its VRAM.', check: vramFindings },
  { id: 'vram-offload', description: 'An Ollama model larger than its GPU spills to CPU RAM.' },
  { id: 'vram-model-too-large', description: 'A GPU service model that cannot fit its GPU at all.' },
  { id: 'ram-budget', description: 'The models Ollama keeps resident on the CPU fit its memory limit and the node\'s RAM beside the other services.', check: ramFindings },
  { id: 'ram-model-too-large', description: 'A model loaded on the CPU larger than the memory limit of Ollama.' },
  { id: 'gpu-oversubscribed', description: 'More GPU services on a node than GPUs: compute is shared.', check: gpuOversubscription },
  { id: 'gpu-placement-k3s', description: "k3s time-slicing cannot keep the plan's per-GPU placement on a multi-GPU node.", check: k3sGpuPlacement },
  { id: 'gpu-sharing-amd-k3s', description: "Several services on one AMD GPU: k3s's AMD device plugin cannot share it.", check: amdGpuSharingK3s },
  { id: 'node-capacity', description: 'CPU and memory of the services on a node fit its hardware.', check: nodeCapacity },
  { id: 'host-port-clash', description: 'Two services publish the same port on one node.' },
  { id: 'host-port-coolify', description: "A published port collides with Coolify's own ports.", check: coolifyPorts },
  { id: 'route-duplicate-host', description: 'Two routes claim the same host.' },
  { id: 'route-no-port', description: 'A route ends at a port its service does not have.', check: routeChecks },
  { id: 'route-unreachable', description: 'A route no edge serves.' },
  { id: 'connection-dangling', description: 'A connection to a service or app that does not exist.' },
  { id: 'connection-cycle', description: 'Stacks that must start after each other in a circle.' },
  { id: 'isolated-zone-bridge', description: 'A service that joins zones across an isolated one.', check: isolatedZoneBridges },
  { id: 'public-admin-without-auth', description: 'An admin UI without a login routed publicly without basic auth.', check: adminWithoutAuth },
  { id: 'inference-exposed', description: 'Ollama or ComfyUI in the edge zone.', check: inferenceExposure },
  { id: 'unauthenticated-port', description: 'A published port of a service that answers anyone.', check: unauthenticatedPorts },
  { id: 'ollama-origins-wildcard', description: 'OLLAMA_ORIGINS=* on Ollama.' },
  { id: 'bind-all-interfaces', description: 'Published ports bound to 0.0.0.0.', check: bindAllInterfaces },
  { id: 'secret-literal', description: 'A credential written as a literal value.', check: literalSecrets },
  { id: 'secret-undeclared', description: 'A secret referenced but never declared.', check: undeclaredSecrets },
  { id: 'image-floating-tag', description: 'An image without a concrete version tag.' },
  { id: 'coolify-literal-secret', description: "A secret you supply that Coolify's .env would let Compose expand if it holds a '$'.", check: coolifyLiteralSecrets },
  { id: 'sovereignty-third-party', description: 'Traffic to hosted inference or a CDN.', check: sovereignty },
  { id: 'backup-same-disk', description: 'Every backup destination is on the disk that holds the data.', check: backupSameDisk },
];

const ORDER = new Map(RULES.map((r, i) => [r.id, i]));

/** Run every rule over the model; errors first, then by rule, then by path. */
export function validatePlatform(platform: Platform): Finding[] {
  const findings = RULES.flatMap((rule) => rule.check?.(platform) ?? []);
  return sortFindings(findings);
}

export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1) ||
      (ORDER.get(a.rule) ?? 99) - (ORDER.get(b.rule) ?? 99) ||
      compareText(a.path.join('.'), b.path.join('.')) ||
      compareText(a.message, b.message),
  );
}
