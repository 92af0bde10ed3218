import type { Node } from './node.js';
import type { Platform } from './platform.js';
import type { Service } from './service.js';

/** One GPU of a deployed node and the services the placement puts on it. */
export interface GpuDeviceUse {
  readonly index: number;
  readonly model: string;
  readonly vramGb: number;
  /** In declaration order; empty: the GPU idles. */
  readonly services: readonly Service[];
}

/** How one deployed GPU node hands out its GPUs, on both targets. */
export interface NodeGpuSharing {
  readonly node: Node;
  /** Services that request GPUs on this node (telemetry exporters excluded). */
  readonly pods: readonly Service[];
  /** Per GPU, who runs on it: Compose's `device_ids` are exactly these. */
  readonly devices: readonly GpuDeviceUse[];
  /**
   * Time-slicing replicas per GPU on k3s: the most services placed on any one GPU. 1 means no
   * sharing: every pod gets whole GPUs of its own.
   */
  readonly replicas: number;
}

/** Compose pins services to different GPUs of a time-sliced multi-GPU node, which k3s cannot keep. */
export interface LostGpuPinning {
  readonly node: Node;
  /** Each GPU service of the node with the GPU indexes Compose gives it. */
  readonly pins: readonly { readonly service: Service; readonly devices: readonly number[] }[];
}

/**
 * The GPU assignment, derived once from the placement (`Platform.gpuDevices`) and read by the
 * Compose renderer (`device_ids`), the k3s charts (time-slicing replicas, `nvidia.com/gpu`
 * limits), the READMEs and `validate` (VRAM budget, oversubscription, lost pinning), so they
 * cannot disagree about who runs on which GPU.
 */
export class GpuAssignment {
  /** Deployed GPU nodes: what the renderers reserve and time-slice. */
  readonly nodes: readonly NodeGpuSharing[];

  constructor(private readonly platform: Platform) {
    const nodes: NodeGpuSharing[] = [];
    for (const node of platform.nodes.values()) {
      if (!node.hasGpu) continue;
      const pods = platform.services.filter((s) => s.gpu && s.nodes.includes(node));
      const devices = node.gpus.map((gpu) => ({
        index: gpu.index,
        model: gpu.model,
        vramGb: gpu.vramGb,
        services: pods.filter((s) => platform.gpuDevices(s, node).includes(gpu.index)),
      }));
      nodes.push({ node, pods, devices, replicas: Math.max(1, ...devices.map((d) => d.services.length)) });
    }
    this.everyNode = nodes;
    this.nodes = nodes.filter((s) => s.node.deployed);
  }

  /**
   * Every node with GPUs, external ones included (gpu-over-lan: the workstation the platform does
   * not deploy to still runs the services placed there, so its VRAM budget still counts).
   */
  readonly everyNode: readonly NodeGpuSharing[];

  /** The sharing of `node`, when it has GPUs. */
  of(node: Node): NodeGpuSharing | undefined {
    return this.everyNode.find((s) => s.node === node);
  }

  /** GPU indices Compose reserves for `service` on `node` (`device_ids`). */
  devices(service: Service, node: Node): readonly number[] {
    return this.platform.gpuDevices(service, node);
  }

  /**
   * `nvidia.com/gpu` a pod asks for on `node`. On a time-sliced node the device plugin grants one
   * slot per pod (`failRequestsGreaterThanOne`), so a multi-GPU service gets one shared GPU there.
   */
  k3sLimit(service: Service, node: Node): number {
    // AMD's device plugin hands out whole GPUs only (no time-slicing): a pod takes its own.
    if (node.gpuVendor === 'amd') return this.devices(service, node).length;
    const shared = (this.of(node)?.replicas ?? 1) > 1;
    return shared ? 1 : this.devices(service, node).length;
  }

  /**
   * Where k3s cannot keep the plan's GPU placement. The device plugin advertises `replicas` slots
   * per GPU and hands a pod any free slot (k8s-device-plugin v0.17.1: time-sliced replicas are
   * interchangeable devices of one resource), so on a node with several GPUs two services the plan
   * puts on different GPUs may land on one while another idles. Compose keeps the plan (`device_ids`).
   */
  get lostPinning(): LostGpuPinning[] {
    const lost: LostGpuPinning[] = [];
    for (const s of this.nodes) {
      if (s.replicas <= 1 || s.node.gpus.length <= 1 || s.node.gpuVendor === 'amd') continue;
      const pins = s.pods.map((service) => ({ service, devices: this.devices(service, s.node) }));
      if (new Set(pins.map((p) => p.devices.join('+'))).size > 1) lost.push({ node: s.node, pins });
    }
    return lost;
  }
}

/** `ollama GPU 0, comfyui GPU 1, mochi GPU 0+1`. */
export function describePins(pins: LostGpuPinning['pins']): string {
  return pins.map((p) => `${p.service.name} GPU ${p.devices.join('+')}`).join(', ');
}
