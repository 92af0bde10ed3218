import type { ServiceName } from './services/names.js';

/**
 * The one table of pinned images. The seeds use `:latest` everywhere; a homelab that redeploys
 * must get the same bits every time, so every image carries a concrete version tag here and can
 * be overridden from `images:` in platform.yaml.
 *
 * mochi and cogvideox have no official images upstream: the seed names are kept with a version
 * tag so the stack renders, and the README tells the owner to point `images:` at their own build.
 */
export const PINNED_IMAGES: Readonly<Record<ServiceName, string>> = {
  technitium: 'technitium/dns-server:14.3.0',
  ddclient: 'lscr.io/linuxserver/ddclient:4.0.0',
  caddy: 'caddy:2.10.0-alpine',
  litellm: 'ghcr.io/berriai/litellm:v1.79.1-stable',
  ollama: 'ollama/ollama:0.11.4',
  'ollama-init': 'ollama/ollama:0.11.4',
  'open-webui': 'ghcr.io/open-webui/open-webui:v0.6.22',
  comfyui: 'ghcr.io/ai-dock/comfyui:pytorch-2.3.0-py3.11-cuda-12.1.0-runtime-22.04',
  'comfyui-models': 'alpine:3.22.1',
  mochi: 'ghcr.io/genmoai/mochi:1.0.0',
  cogvideox: 'ghcr.io/thudm/cogvideo:1.0.0',
  // Debian (glibc), like the pgvector image: `postgres.vectors` never changes the C library under a data directory.
  postgres: 'postgres:16.10-bookworm',
  valkey: 'valkey/valkey:7.2.10-alpine',
  minio: 'minio/minio:RELEASE.2025-09-07T16-13-09Z',
  searxng: 'searxng/searxng:2025.9.20-57ef342',
  prometheus: 'prom/prometheus:v3.5.0',
  alertmanager: 'prom/alertmanager:v0.28.1',
  grafana: 'grafana/grafana:12.1.1',
  loki: 'grafana/loki:3.5.3',
  alloy: 'grafana/alloy:v1.13.0',
  'uptime-kuma': 'louislam/uptime-kuma:1.23.16',
  // v2.14.0 is the first release that declares users, access and tokens in the config (auth-users, auth-access, auth-tokens).
  ntfy: 'binwiederhier/ntfy:v2.14.0',
  'node-exporter': 'prom/node-exporter:v1.9.1',
  cadvisor: 'gcr.io/cadvisor/cadvisor:v0.52.1',
  'gpu-exporter': 'nvcr.io/nvidia/k8s/dcgm-exporter:4.2.3-4.1.3-ubuntu22.04',
  'blackbox-exporter': 'prom/blackbox-exporter:v0.27.0',
};

/**
 * pgvector's build of Postgres, used when `postgres.vectors` is on. Built FROM the official
 * `postgres:16-bookworm` (pgvector's Dockerfile), the same family as the default image.
 */
export const PGVECTOR_IMAGE = 'pgvector/pgvector:0.8.0-pg16';

/** Tags that move: an image pinned to one of these is not reproducible. */
export const FLOATING_TAGS = ['latest', 'main', 'main-latest', 'stable', 'edge', 'nightly', 'dev'];
