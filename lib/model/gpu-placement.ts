import type { ConfigIssue } from '../config/errors.js';
import type { Node } from './node.js';
import type { Service } from './service.js';

/** Which GPU indices each GPU service gets on each node it runs on. */
export interface GpuPlacement {
  readonly assignments: ReadonlyMap<Service, ReadonlyMap<Node, readonly number[]>>;
  readonly issues: readonly ConfigIssue[];
}

/**
 * Derive device indices from the requests and the node inventory: pinned devices are kept,
 * "all" takes every GPU, a count takes the least-loaded GPUs (lowest index on a tie). In
 * declaration order this gives the reference `optimal` layout: Ollama GPU 0, ComfyUI GPU 1,
 * Mochi 0+1. The same placement drives compose device_ids, k3s scheduling and the VRAM budget.
 */
export function placeGpus(services: readonly Service[]): GpuPlacement {
  const assignments = new Map<Service, Map<Node, number[]>>();
  const issues: ConfigIssue[] = [];
  const load = new Map<Node, number[]>();

  for (const service of services) {
    const request = service.gpu;
    if (!request) continue;
    const perNode = new Map<Node, number[]>();
    for (const node of service.nodes) {
      if (!node.hasGpu) {
        issues.push({
          path: [...service.configPath, 'node'],
          message: `${service.name} needs a GPU but node "${node.name}" has none; place it on a node with gpus`,
        });
        continue;
      }
      const vendors = request.vendors ?? ['nvidia'];
      if (node.gpuVendor !== undefined && !vendors.includes(node.gpuVendor)) {
        const named = (v: string) => (v === 'amd' ? 'AMD (ROCm)' : 'NVIDIA (CUDA)');
        issues.push({
          path: [...service.configPath, 'node'],
          message: `${service.name}'s image runs on ${vendors.map(named).join(' or ')} GPUs only, but node "${node.name}" has ${named(node.gpuVendor)} GPUs; place it on a node with ${vendors.map(named).join(' or ')} GPUs or turn it off (${[...service.configPath, 'enabled'].join('.')}: false)`,
        });
        continue;
      }
      const gpuLoad = load.get(node) ?? node.gpus.map(() => 0);
      load.set(node, gpuLoad);
      let devices: number[];
      if (request.devices) {
        const bad = request.devices.filter((d) => d >= node.gpus.length);
        if (bad.length > 0) {
          issues.push({
            path: [...service.configPath, 'gpuDevices'],
            message: `GPU ${bad.join(', ')} does not exist on node "${node.name}" (GPUs 0-${node.gpus.length - 1})`,
          });
          continue;
        }
        devices = [...request.devices].sort((a, b) => a - b);
      } else if (request.count === 'all') {
        devices = node.gpus.map((g) => g.index);
      } else {
        if (request.count > node.gpus.length) {
          issues.push({
            path: [...service.configPath, 'gpus'],
            message: `${service.name} asks for ${request.count} GPUs but node "${node.name}" has ${node.gpus.length}`,
          });
          continue;
        }
        devices = node.gpus
          .map((g) => g.index)
          .sort((a, b) => (gpuLoad[a] ?? 0) - (gpuLoad[b] ?? 0) || a - b)
          .slice(0, request.count)
          .sort((a, b) => a - b);
      }
      for (const d of devices) gpuLoad[d] = (gpuLoad[d] ?? 0) + 1;
      perNode.set(node, devices);
    }
    assignments.set(service, perNode);
  }
  return { assignments, issues };
}
