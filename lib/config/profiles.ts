import type { PlatformConfigInput } from './schema.js';

/** What a card with 12-16 GB runs well; the video models need a 24 GB card and are turned off. */
const SMALL_CARD = {
  services: { mochi: { enabled: false }, cogvideox: { enabled: false } },
  /** A one-box install: Ollama and ComfyUI sized so every pod's requests fit 8 cores and 32 GB. */
  oneBox: {
    mochi: { enabled: false },
    cogvideox: { enabled: false },
    ollama: { cpus: 4, memoryGb: 12 },
    comfyui: { cpus: 2, memoryGb: 8 },
  },
  embedding: { name: 'nomic-embed-text', alias: 'text-embedding-ada-002', vramGb: 0.3, mode: 'embedding' },
} as const;

/** Starter configs for `platform init --profile`, from the hardware setups of the design: minimum, recommended, optimal, small card, GPU over the LAN. */
export const PROFILES = {
  recommended: {
    description: 'Server (16 cores, 128 GB) + GPU node with one RTX 4090: the reference homelab',
    config: {
      domain: 'example.com',
      acmeEmail: 'admin@example.com',
      exposure: 'public',
      nodes: {
        homelab: { role: 'server', address: '192.168.1.10', cpus: 16, memoryGb: 128, diskGb: 2000 },
        rtx: { role: 'gpu', address: '192.168.1.11', cpus: 16, memoryGb: 64, diskGb: 2000, gpus: [{ model: 'RTX 4090', vramGb: 24 }] },
      },
    },
  },
  minimum: {
    description: 'One server with an RTX 3090 (24 GB) and 64 GB RAM',
    config: {
      domain: 'example.com',
      acmeEmail: 'admin@example.com',
      exposure: 'public',
      nodes: {
        homelab: { role: 'server', address: '192.168.1.10', cpus: 8, memoryGb: 64, diskGb: 1000, gpus: [{ model: 'RTX 3090', vramGb: 24 }] },
      },
      // Everything on 8 cores and 64 GB: the GPU services sized so every pod's requests fit.
      services: { ollama: { cpus: 4 }, comfyui: { cpus: 2 }, mochi: { cpus: 4, memoryGb: 32 } },
    },
  },
  optimal: {
    description: 'Server + GPU server with 2x RTX 4090 + second GPU server with one RTX 4090',
    config: {
      domain: 'example.com',
      acmeEmail: 'admin@example.com',
      exposure: 'public',
      nodes: {
        homelab: { role: 'server', address: '192.168.1.10', cpus: 16, memoryGb: 128, diskGb: 2000 },
        'gpu-a': {
          role: 'gpu',
          address: '192.168.1.11',
          cpus: 32,
          memoryGb: 256,
          diskGb: 4000,
          gpus: [
            { model: 'RTX 4090', vramGb: 24 },
            { model: 'RTX 4090', vramGb: 24 },
          ],
        },
        'gpu-b': { role: 'gpu', address: '192.168.1.12', cpus: 16, memoryGb: 64, diskGb: 2000, gpus: [{ model: 'RTX 4090', vramGb: 24 }] },
      },
      // "Multiple concurrent, all modalities": every always-on GPU service gets a GPU of its own.
      // gpu-a: Ollama on GPU 0, Mochi on GPU 1; gpu-b: ComfyUI, and CogVideoX when started on demand.
      services: {
        ollama: { node: 'gpu-a', gpuDevices: [0] },
        mochi: { node: 'gpu-a', gpus: 1, gpuDevices: [1] },
        comfyui: { node: 'gpu-b' },
        cogvideox: { node: 'gpu-b' },
      },
    },
  },
  rtx3060: {
    description: 'One box with an RTX 3060 (12 GB), reachable over Tailscale only, data on /cold-storage',
    config: {
      domain: 'example.com',
      acmeEmail: 'admin@example.com',
      exposure: 'tailnet',
      tls: 'internal',
      nodes: {
        homelab: {
          role: 'server',
          address: '192.168.1.10',
          tailscaleAddress: '100.64.0.10',
          cpus: 8,
          memoryGb: 32,
          diskGb: 1000,
          gpus: [{ model: 'RTX 3060', vramGb: 12 }],
        },
      },
      services: SMALL_CARD.oneBox,
      models: {
        ollama: [
          { name: 'llama3.1:8b-instruct-q4_K_M', alias: 'gpt-4', vramGb: 4.9, fallbacks: ['gpt-3.5-turbo'] },
          { name: 'qwen2.5:7b-instruct-q4_K_M', alias: 'gpt-3.5-turbo', vramGb: 4.7 },
          SMALL_CARD.embedding,
        ],
        comfyui: ['sdxl'],
      },
      storage: { mode: 'bind', root: '/cold-storage' },
    },
  },
  'gpu-over-lan': {
    description: 'Server runs the platform; a GPU workstation (not deployed to) serves Ollama and ComfyUI over the LAN',
    config: {
      domain: 'example.com',
      acmeEmail: 'admin@example.com',
      exposure: 'lan',
      tls: 'internal',
      nodes: {
        homelab: { role: 'server', address: '192.168.1.10', cpus: 16, memoryGb: 64, diskGb: 2000 },
        workstation: { role: 'external', address: '192.168.1.99', cpus: 16, memoryGb: 64, diskGb: 2000, gpus: [{ model: 'RTX 5080', vramGb: 16 }] },
      },
      services: SMALL_CARD.services,
      models: {
        ollama: [
          { name: 'qwen2.5:14b-instruct-q4_K_M', alias: 'gpt-4', vramGb: 9, fallbacks: ['gpt-3.5-turbo'] },
          { name: 'llama3.1:8b-instruct-q4_K_M', alias: 'gpt-3.5-turbo', vramGb: 4.9 },
          SMALL_CARD.embedding,
        ],
        comfyui: ['sdxl'],
      },
    },
  },
} as const satisfies Record<string, { description: string; config: PlatformConfigInput }>;

export type ProfileName = keyof typeof PROFILES;
export const PROFILE_NAMES = Object.keys(PROFILES) as ProfileName[];
