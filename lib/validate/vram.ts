import { describePins } from '../model/gpu-assignment.js';
import type { Platform } from '../model/platform.js';
import type { Service } from '../model/service.js';
import type { Finding } from './finding.js';
import { compareText } from '../output/order.js';

/** VRAM of the non-Ollama models (weights only): as configured, and with every optimization. */
export const GPU_MODEL_VRAM: Readonly<Record<string, { vramGb: number; minVramGb: number; label: string }>> = {
  sdxl: { vramGb: 8, minVramGb: 8, label: 'SDXL base + refiner + VAE' },
  'flux-schnell': { vramGb: 24, minVramGb: 12, label: 'FLUX.1-schnell' },
  'flux-dev': { vramGb: 24, minVramGb: 12, label: 'FLUX.1-dev' },
  'mochi-1': { vramGb: 22, minVramGb: 22, label: 'Mochi 1' },
  'cogvideox-5b': { vramGb: 26, minVramGb: 5, label: 'CogVideoX-5b' },
};

export interface ModelNeed {
  readonly name: string;
  readonly vramGb: number;
  readonly minVramGb: number;
}

function modelNeed(platform: Platform, name: string): ModelNeed {
  const table = GPU_MODEL_VRAM[name] ?? { vramGb: 0, minVramGb: 0, label: name };
  const override = platform.config.models.vram[name as keyof typeof platform.config.models.vram];
  const vramGb = override ?? table.vramGb;
  return { name, vramGb, minVramGb: Math.min(table.minVramGb, vramGb) };
}

/** The largest model a single-model GPU service keeps resident (its `gpuModels`). */
export function largestModel(platform: Platform, service: Service): ModelNeed | undefined {
  const names = service.gpuModels?.kind === 'largest' ? service.gpuModels.models(platform) : [];
  const fromTable = names.map((n) => modelNeed(platform, n)).sort((a, b) => b.vramGb - a.vramGb)[0];
  // A GPU app declares what it keeps resident itself (apps.<name>.vramGb); there is no smaller optimized footprint to fall back to.
  const declared = service.gpu?.vramGb;
  return fromTable ?? (declared === undefined ? undefined : { name: 'its model', vramGb: declared, minVramGb: declared });
}

/** Ollama's worst case: its `maxLoadedModels` largest models resident at once. */
export function ollamaResident(platform: Platform): { name: string; vramGb: number }[] {
  return [...platform.config.models.ollama]
    .sort((a, b) => b.vramGb - a.vramGb || compareText(a.name, b.name))
    .slice(0, platform.config.ollama.maxLoadedModels)
    .map((m) => ({ name: m.name, vramGb: m.vramGb }));
}

const gb = (n: number) => `${Math.round(n * 10) / 10} GB`;

/**
 * Per GPU, the worst case resident at once: Ollama's largest loaded models (one larger than the
 * GPU fills it and spills to CPU RAM) plus each other service's largest model. Neither Compose
 * nor Kubernetes enforces VRAM, and time-slicing shares no memory: this budget is the only guard.
 */
export function vramFindings(platform: Platform): Finding[] {
  const findings: Finding[] = [];
  for (const sharing of platform.gpuAssignment.everyNode) {
    const node = sharing.node;
    for (const { services: users, ...gpu } of sharing.devices) {
      const parts: string[] = [];
      let total = 0;
      for (const service of users) {
        if (service.gpuModels?.kind === 'llm-resident') {
          for (const model of ollamaResident(platform)) {
            if (model.vramGb > gpu.vramGb) {
              findings.push({
                rule: 'vram-offload',
                severity: 'warning',
                path: ['models', 'ollama', platform.config.models.ollama.findIndex((m) => m.name === model.name), 'vramGb'],
                message: `${model.name} needs ${gb(model.vramGb)} but GPU ${gpu.index} of ${node.name} has ${gb(gpu.vramGb)}: Ollama offloads the rest to CPU RAM (slow)`,
                fix: 'use a smaller quantization, or a node with more VRAM (or several GPUs) for this model',
              });
            }
            const resident = Math.min(model.vramGb, gpu.vramGb);
            total += resident;
            parts.push(`ollama ${model.name} ${gb(resident)}`);
          }
          continue;
        }
        const model = largestModel(platform, service);
        if (!model) continue;
        if (model.minVramGb > gpu.vramGb) {
          findings.push({
            rule: 'vram-model-too-large',
            severity: 'error',
            path: [...service.configPath, 'node'],
            message: `${service.name} needs at least ${gb(model.minVramGb)} for ${model.name}, but GPU ${gpu.index} of ${node.name} has ${gb(gpu.vramGb)}: it cannot load`,
            fix:
              service.configPath[0] === 'services'
                ? `place ${service.name} on a node with a larger GPU (services.${service.name}.node), or turn it off (services.${service.name}.enabled: false)`
                : `place ${service.name} on a node with a larger GPU (${service.configPath.join('.')}.node), or give it a smaller model`,
          });
          continue;
        }
        // Too large as configured, but it fits with its optimizations (offload, fp8): count that footprint.
        const optimized = model.vramGb > gpu.vramGb;
        const resident = optimized ? model.minVramGb : model.vramGb;
        total += resident;
        parts.push(`${service.name} ${model.name} ${gb(resident)}${optimized ? ` (with its optimizations; ${gb(model.vramGb)} without)` : ''}`);
      }
      if (total > gpu.vramGb) {
        findings.push({
          rule: 'vram-budget',
          severity: 'warning',
          path: ['nodes', node.name, 'gpus', gpu.index],
          message: `GPU ${gpu.index} of ${node.name} (${gpu.model}, ${gb(gpu.vramGb)}) may need ${gb(total)} at once: ${parts.join(' + ')}`,
          fix:
            'dedicate GPUs (services.<name>.gpuDevices on a multi-GPU node, or another node), keep fewer models resident ' +
            '(ollama.maxLoadedModels), or start video on demand (services.mochi.enabled: false; cogvideox runs only with --profile backup)',
        });
      }
    }
  }
  return findings;
}

/**
 * A GPU that more than one service is placed on: they share its compute (Compose hands each the
 * same `device_ids`, k3s time-slices every GPU of the node into as many slots as its busiest one
 * has services). Reported per GPU, from the same assignment both renderers read, with the GPUs
 * of the node that idle.
 */
export function gpuOversubscription(platform: Platform): Finding[] {
  const findings: Finding[] = [];
  for (const sharing of platform.gpuAssignment.nodes) {
    const node = sharing.node;
    const shared = sharing.devices.filter((d) => d.services.length > 1);
    if (shared.length === 0) continue;
    const idle = sharing.devices.filter((d) => d.services.length === 0).map((d) => d.index);
    const perGpu = shared.map((d) => `GPU ${d.index} of ${node.name} runs ${d.services.length} GPU services (${d.services.map((s) => s.name).join(', ')})`).join('; ');
    findings.push({
      rule: 'gpu-oversubscribed',
      severity: 'warning',
      path: ['nodes', node.name, 'gpus'],
      message:
        `${perGpu}${idle.length > 0 ? ` while GPU ${idle.join(', ')} ${idle.length > 1 ? 'idle' : 'idles'}` : ''}: ` +
        `Compose hands them the same device, k3s time-slices each GPU of ${node.name} into ${sharing.replicas}; compute is shared and VRAM is not isolated`,
      fix: 'add GPUs or a GPU node and pin services to their own (services.<name>.gpuDevices or .node), or turn some off',
    });
  }
  return findings;
}

/** k3s cannot keep the plan's per-GPU placement on a time-sliced multi-GPU node (see lostGpuPinning). */
export function k3sGpuPlacement(platform: Platform): Finding[] {
  return platform.gpuAssignment.lostPinning.map((lost) => ({
    rule: 'gpu-placement-k3s',
    severity: 'warning' as const,
    path: ['nodes', lost.node.name, 'gpus'],
    message: `Compose pins ${describePins(lost.pins)} on ${lost.node.name}; k3s time-slices its ${lost.node.gpus.length} GPUs and the device plugin picks the GPU of each slot, so services kept apart may share one GPU there`,
    fix: 'on k3s, give services that must not share a GPU a node each (services.<name>.node), or keep one GPU service per GPU so nothing is time-sliced',
  }));
}

/** A service that keeps LLMs resident but has no GPU: Ollama on the CPU, its weights in RAM. */
function cpuInference(platform: Platform): Service[] {
  return platform.services.filter((s) => s.gpuModels?.kind === 'llm-resident' && !s.gpu);
}

/**
 * The RAM counterpart of the VRAM budget, for models loaded on the CPU: the weights of Ollama's
 * `maxLoadedModels` largest models sit in RAM, inside its memory limit (a container past it is
 * killed, so there is no spilling over as from a GPU), and beside the other services' memory
 * limits on the same node. Weights only, as in the VRAM budget: the KV cache comes on top.
 */
export function ramFindings(platform: Platform): Finding[] {
  const findings: Finding[] = [];
  for (const service of cpuInference(platform)) {
    const limit = service.resources.memoryGb;
    const resident = ollamaResident(platform);
    const fitting = resident.filter((model) => {
      if (model.vramGb <= limit) return true;
      findings.push({
        rule: 'ram-model-too-large',
        severity: 'warning',
        path: ['models', 'ollama', platform.config.models.ollama.findIndex((m) => m.name === model.name), 'vramGb'],
        message: `${model.name} needs ${gb(model.vramGb)} of RAM but ${service.name} runs on the CPU with a memory limit of ${gb(limit)}: loading it fails or the container is killed for memory`,
        fix: `use a smaller model or quantization (3B-8B at q4 suits a CPU), or raise services.${service.name}.memoryGb on a node with the RAM`,
      });
      return false;
    });
    const total = fitting.reduce((sum, m) => sum + m.vramGb, 0);
    const parts = fitting.map((m) => `${m.name} ${gb(m.vramGb)}`).join(' + ');
    if (total > limit) {
      findings.push({
        rule: 'ram-budget',
        severity: 'warning',
        path: ['services', service.name, 'memoryGb'],
        message: `${service.name} on the CPU may hold ${gb(total)} of models at once (${parts}) but its memory limit is ${gb(limit)}`,
        fix: `keep fewer models resident (ollama.maxLoadedModels) or raise services.${service.name}.memoryGb`,
      });
    }
    for (const node of service.nodes) {
      const others = platform.services.filter((s) => s !== service && s.nodes.includes(node) && !s.profile);
      const othersGb = others.reduce((sum, s) => sum + s.resources.memoryGb, 0);
      if (total + othersGb > node.memoryGb) {
        findings.push({
          rule: 'ram-budget',
          severity: 'warning',
          path: ['nodes', node.name, 'memoryGb'],
          message: `${node.name} has ${gb(node.memoryGb)} of RAM; ${service.name}'s models on the CPU (${gb(total)}) and the memory limits of its ${others.length} other services (${gb(othersGb)}) add up to ${gb(total + othersGb)}`,
          fix: `use smaller models, keep fewer resident (ollama.maxLoadedModels), lower other services' memoryGb, or move services to another node`,
        });
      }
    }
  }
  return findings;
}

/**
 * A GPU of an AMD node that several services are placed on: Compose passes the device to each,
 * but AMD's Kubernetes device plugin cannot time-slice (each `amd.com/gpu` is a whole GPU), so on
 * k3s the pods beyond the node's GPUs stay Pending.
 */
export function amdGpuSharingK3s(platform: Platform): Finding[] {
  return platform.gpuAssignment.nodes
    .filter((s) => s.node.gpuVendor === 'amd' && s.replicas > 1)
    .map((s) => ({
      rule: 'gpu-sharing-amd-k3s',
      severity: 'warning' as const,
      path: ['nodes', s.node.name, 'gpus'],
      message: `${s.pods.map((p) => p.name).join(', ')} share the AMD GPUs of ${s.node.name}; on k3s AMD's device plugin grants whole GPUs only, so the pods beyond one per GPU stay Pending (Compose shares them)`,
      fix: 'on k3s, give each GPU service an AMD GPU of its own (more GPUs, another node, services.<name>.gpuDevices), or turn some off',
    }));
}
