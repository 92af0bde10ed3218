import type { Node } from '../model/node.js';
import type { Platform } from '../model/platform.js';
import type { Service } from '../model/service.js';

/** How one GPU node hands out its GPUs to pods. */
export interface NodeGpuSharing {
  readonly node: Node;
  /** Pods that request GPUs on this node (telemetry exporters excluded). */
  readonly pods: readonly Service[];
  /**
   * Time-slicing replicas per GPU: the most services placed on any one GPU. 1 means no sharing:
   * every pod gets whole GPUs of its own.
   */
  readonly replicas: number;
}

/**
 * Decide time-slicing per GPU node from the GPU placement: whenever a GPU is placed under more
 * than one service, the node advertises `replicas` slots per GPU. Time-slicing shares compute,
 * not memory: the VRAM budget is what keeps the pods from exhausting the card.
 */
export function gpuSharing(platform: Platform): NodeGpuSharing[] {
  const result: NodeGpuSharing[] = [];
  for (const node of platform.deployedNodes.filter((n) => n.hasGpu)) {
    const pods = platform.services.filter((s) => s.gpu && s.nodes.includes(node));
    const load = node.gpus.map(() => 0);
    for (const service of pods) for (const index of platform.gpuDevices(service, node)) load[index] = (load[index] ?? 0) + 1;
    result.push({ node, pods, replicas: Math.max(1, ...load) });
  }
  return result;
}

/**
 * `nvidia.com/gpu` a pod asks for on `node`. On a time-sliced node the device plugin grants one
 * slot per pod (`failRequestsGreaterThanOne`), so a multi-GPU service gets one shared GPU there.
 */
export function gpuLimit(platform: Platform, service: Service, node: Node, sharing: readonly NodeGpuSharing[]): number {
  const devices = platform.gpuDevices(service, node).length;
  const shared = sharing.find((s) => s.node === node && s.replicas > 1);
  return shared ? 1 : devices;
}

/** Human notes for the k3s README: what time-slicing changes compared to Compose. */
export function gpuSharingNotes(platform: Platform, sharing: readonly NodeGpuSharing[]): string[] {
  const notes: string[] = [];
  for (const s of sharing.filter((x) => x.replicas > 1)) {
    notes.push(
      `${s.node.name}: ${s.pods.length} GPU services on ${s.node.gpus.length} GPU(s), so the device plugin time-slices each GPU into ${s.replicas}; compute is shared, VRAM is not isolated.`,
    );
    for (const pod of s.pods) {
      const wanted = platform.gpuDevices(pod, s.node).length;
      if (wanted > 1) notes.push(`${pod.name} asks for ${wanted} GPUs on ${s.node.name}; time-sliced GPUs are granted one per pod, so on k3s it gets one shared GPU.`);
    }
  }
  return notes;
}
