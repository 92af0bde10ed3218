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

/** A time-sliced node with more than one GPU, where Compose pins services to different GPUs. */
export interface LostGpuPinning {
  readonly node: Node;
  /** Each GPU service of the node with the GPU indexes Compose gives it. */
  readonly pins: readonly { readonly service: Service; readonly devices: readonly number[] }[];
}

/**
 * Where k3s cannot keep the plan's GPU placement. The device plugin advertises `replicas` slots per
 * GPU and hands a pod any free slot (k8s-device-plugin v0.17.1: time-sliced replicas are
 * interchangeable devices of one resource), so on a node with several GPUs two services the plan
 * puts on different GPUs may land on one while another idles. Compose keeps the plan
 * (`device_ids`). Read by the k3s summary, its README and `validate`.
 */
export function lostGpuPinning(platform: Platform, sharing: readonly NodeGpuSharing[]): LostGpuPinning[] {
  const lost: LostGpuPinning[] = [];
  for (const s of sharing) {
    if (s.replicas <= 1 || s.node.gpus.length <= 1) continue;
    const pins = s.pods.map((service) => ({ service, devices: platform.gpuDevices(service, s.node) }));
    if (new Set(pins.map((p) => p.devices.join('+'))).size > 1) lost.push({ node: s.node, pins });
  }
  return lost;
}

/** `ollama GPU 0, comfyui GPU 1, mochi GPU 0+1`. */
export function describePins(pins: LostGpuPinning['pins']): string {
  return pins.map((p) => `${p.service.name} GPU ${p.devices.join('+')}`).join(', ');
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
  for (const lost of lostGpuPinning(platform, sharing)) {
    notes.push(
      `${lost.node.name}: Compose pins ${describePins(lost.pins)}; on k3s the device plugin hands out time-sliced slots of any of the ${lost.node.gpus.length} GPUs, so services the plan keeps apart may share one GPU while another idles.`,
    );
  }
  return notes;
}
