import { Construct } from 'constructs';
import type { GpuVendor, NodeConfig } from '../config/schema.js';

export interface GpuDevice {
  /** Device index on its node (nvidia-smi / rocm-smi order). */
  readonly index: number;
  readonly model: string;
  readonly vramGb: number;
  readonly vendor: GpuVendor;
}

export interface NodeProps {
  /** The node as configured. */
  readonly config: NodeConfig;
  /**
   * Address that published ports bind to and that other nodes dial: the Tailscale address under
   * `tailnet` exposure, the LAN address otherwise.
   * @default config.address
   */
  readonly bindAddress?: string;
}

/** A machine of the homelab: where services run and what hardware they share. */
export class Node extends Construct {
  readonly name: string;
  readonly role: NodeConfig['role'];
  /** LAN address. */
  readonly address: string;
  readonly bindAddress: string;
  /** Parent interface for macvlan networks. */
  readonly networkInterface: string;
  readonly cpus: number;
  readonly memoryGb: number;
  readonly diskGb: number;
  readonly gpus: readonly GpuDevice[];

  constructor(scope: Construct, name: string, props: NodeProps) {
    super(scope, name);
    this.name = name;
    this.role = props.config.role;
    this.address = props.config.address;
    this.bindAddress = props.bindAddress ?? props.config.address;
    this.networkInterface = props.config.interface;
    this.cpus = props.config.cpus;
    this.memoryGb = props.config.memoryGb;
    this.diskGb = props.config.diskGb;
    this.gpus = props.config.gpus.map((gpu, index) => ({ index, model: gpu.model, vramGb: gpu.vramGb, vendor: gpu.vendor ?? 'nvidia' }));
  }

  /** False for an external machine (gpu-over-lan): nothing is rendered for it, its services are dialled at its address. */
  get deployed(): boolean {
    return this.role !== 'external';
  }

  get hasGpu(): boolean {
    return this.gpus.length > 0;
  }

  /** The vendor of its GPUs (one per node, checked with the config); undefined without GPUs. */
  get gpuVendor(): GpuVendor | undefined {
    return this.gpus[0]?.vendor;
  }

  /** "1x RTX 4090 (24 GB)" or "no GPU". */
  describeGpus(): string {
    if (this.gpus.length === 0) return 'no GPU';
    const byModel = new Map<string, { count: number; vram: number }>();
    for (const gpu of this.gpus) {
      const entry = byModel.get(gpu.model) ?? { count: 0, vram: gpu.vramGb };
      entry.count += 1;
      byModel.set(gpu.model, entry);
    }
    return [...byModel].map(([model, { count, vram }]) => `${count}x ${model} (${vram} GB)`).join(' + ');
  }
}
