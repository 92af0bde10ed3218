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

/** Starter configs for `platform init --profile`, from the hardware setups of the design: minimum, recommended, optimal, small card, GPU over the LAN, a CPU-only VPS. */
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
  vps: {
    description: 'One rented VPS (4 CPUs, 16 GB, no GPU): chat on a small model on the CPU, Let\'s Encrypt, lean monitoring',
    config: {
      domain: 'example.com',
      acmeEmail: 'admin@example.com',
      exposure: 'public',
      tls: 'acme',
      nodes: {
        // A public address of the VPS (TEST-NET-3 here); its provider's firewall opens 80 and 443 only.
        vps: { role: 'server', address: '203.0.113.10', cpus: 4, memoryGb: 16, diskGb: 160 },
      },
      // No GPU: Ollama runs on the CPU (4 threads, 8 GB for the weights); ComfyUI, the video models
      // and the GPU exporter are left out on their own. The rest is sized so every limit fits 16 GB.
      services: {
        ollama: { cpus: 4, memoryGb: 8 },
        litellm: { cpus: 1, memoryGb: 1 },
        'open-webui': { cpus: 1, memoryGb: 1.25 },
        postgres: { cpus: 1, memoryGb: 1 },
        prometheus: { cpus: 0.5, memoryGb: 1 },
        grafana: { cpus: 0.5, memoryGb: 0.5 },
        // The VPS has a static address and its DNS is at the registrar: no DNS server, no dynamic DNS.
        technitium: { enabled: false },
        ddclient: { enabled: false },
        // Lean: no object store, cache, metasearch or log pipeline on 16 GB.
        minio: { enabled: false },
        valkey: { enabled: false },
        searxng: { enabled: false },
        loki: { enabled: false },
        alloy: { enabled: false },
        // node-exporter runs on the host network: on a VPS it would answer the internet at the public
        // address on 9100. cAdvisor's root cgroup (id="/") still gives the machine's CPU, memory and disk.
        'node-exporter': { enabled: false },
      },
      models: {
        ollama: [
          { name: 'llama3.2:3b', alias: 'gpt-3.5-turbo', vramGb: 2 },
          SMALL_CARD.embedding,
        ],
      },
      ollama: { maxLoadedModels: 2 },
    },
  },
} as const satisfies Record<string, { description: string; config: PlatformConfigInput }>;

export type ProfileName = keyof typeof PROFILES;
export const PROFILE_NAMES = Object.keys(PROFILES) as ProfileName[];
