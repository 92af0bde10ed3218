import { describePins, type NodeGpuSharing } from '../model/gpu-assignment.js';
import type { Platform } from '../model/platform.js';

/** Human notes for the k3s README and summary: what time-slicing changes compared to Compose (from the model's GPU assignment). */
export function gpuSharingNotes(platform: Platform, sharing: readonly NodeGpuSharing[]): string[] {
  const assignment = platform.gpuAssignment;
  const notes: string[] = [];
  for (const s of sharing.filter((x) => x.replicas > 1)) {
    if (s.node.gpuVendor === 'amd') {
      notes.push(
        `${s.node.name}: ${s.pods.length} GPU services share its AMD GPUs; AMD's device plugin hands out whole GPUs only, so on k3s the pods beyond the GPUs stay Pending (Compose shares them).`,
      );
      continue;
    }
    notes.push(
      `${s.node.name}: ${s.pods.length} GPU services on ${s.node.gpus.length} GPU(s), so the device plugin time-slices each GPU into ${s.replicas}; compute is shared, VRAM is not isolated.`,
    );
    for (const pod of s.pods) {
      const wanted = assignment.devices(pod, s.node).length;
      if (wanted > 1) notes.push(`${pod.name} asks for ${wanted} GPUs on ${s.node.name}; time-sliced GPUs are granted one per pod, so on k3s it gets one shared GPU.`);
    }
  }
  for (const lost of assignment.lostPinning) {
    notes.push(
      `${lost.node.name}: Compose pins ${describePins(lost.pins)}; on k3s the device plugin hands out time-sliced slots of any of the ${lost.node.gpus.length} GPUs, so services the plan keeps apart may share one GPU while another idles.`,
    );
  }
  return notes;
}
