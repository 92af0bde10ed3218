/**
 * Every service kind the platform knows how to build. Config keys under `services:` and `images:`
 * must be one of these, so a typo is caught by the schema rather than silently ignored.
 */
export const SERVICE_NAMES = [
  'technitium',
  'ddclient',
  'caddy',
  'litellm',
  'ollama',
  'ollama-init',
  'open-webui',
  'comfyui',
  'comfyui-models',
  'mochi',
  'cogvideox',
  'postgres',
  'valkey',
  'minio',
  'searxng',
  'prometheus',
  'alertmanager',
  'grafana',
  'loki',
  'alloy',
  'uptime-kuma',
  'ntfy',
  'node-exporter',
  'cadvisor',
  'gpu-exporter',
  'blackbox-exporter',
] as const;

export type ServiceName = (typeof SERVICE_NAMES)[number];

export { envPrefix } from '../model/values.js';
