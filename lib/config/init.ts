import { Document, isMap, isScalar } from 'yaml';
import type { z } from 'zod';
import { PROFILES, type ProfileName } from './profiles.js';
import { configSchema } from './schema.js';

export const SCHEMA_FILE = 'platform.schema.json';

export const APPS_EXAMPLE = `
For example (every field: the README's apps reference):
apps:
  api:                      # the Hono API
    image: ghcr.io/you/hono-api:1.0.0
    port: 3001
    route: { host: api, cors: [app] }
    connects: [litellm, comfyui, mochi, searxng, valkey, postgres, minio]
    secrets: [API_SECRET_KEY]
    healthPath: /health
  app:                      # the React SPA, served by Caddy
    kind: static
    root: /srv/apps/app/dist
    route: { host: app }
  video-worker:
    image: ghcr.io/you/video-worker:1.0.0
    port: 8080
    node: rtx                 # your GPU node: next to the video models
    zone: gpu
    connects: [valkey, mochi, cogvideox, minio]
  vllm:                     # a GPU app: placed, reserved and budgeted like the built-ins
    image: vllm/vllm-openai:v0.6.4
    zone: gpu
    ports: [{ name: api, port: 8001 }]      # 8000 is Mochi's on the GPU node
    args: [--model, Qwen/Qwen2.5-7B-Instruct-AWQ, --port, '8001', --download-dir, /models]
    volumes: [{ name: models, mountPath: /models, sizeGb: 40, backup: false }]
    gpus: 1
    vramGb: 6
    health: { http: /health, via: python, startPeriodSeconds: 600 }
    metrics: { path: /metrics }
    auth: token
    secrets: [VLLM_API_KEY]`;

function describe(key: string): string | undefined {
  const field = (configSchema.shape as Record<string, z.ZodType>)[key];
  return field?.description;
}

/** Wrap a description into comment lines of at most ~100 characters. */
function wrap(text: string): string {
  const words = text.split(' ');
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    if (line.length + word.length + 1 > 98 && line !== '') {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line) lines.push(line);
  return lines.map((l) => ` ${l}`).join('\n');
}

/** A commented starter platform.yaml for a hardware profile; comments come from the schema's descriptions. */
export function renderStarterConfig(profile: ProfileName): string {
  const { config, description } = PROFILES[profile];
  // Show the keys an owner edits first, with the reference values where the profile keeps them.
  const defaults = configSchema.parse({});
  const given = config as Record<string, unknown>;
  const shown = ['domain', 'acmeEmail', 'exposure', 'tls', 'nodes', 'zones', 'services', 'models', 'storage', 'coolify', 'apps'];
  const full: Record<string, unknown> = {};
  for (const key of shown) {
    const value = given[key] ?? (defaults as Record<string, unknown>)[key];
    if (value !== undefined) full[key] = value;
  }
  const doc = new Document(full);
  doc.commentBefore = [
    ` platform.yaml for your self-hosted AI homelab (profile: ${profile}: ${description}).`,
    ' `platform synth` renders it; every key left out takes the reference default; `platform schema` prints',
    ' the full schema. Secrets never go here: they are set in Coolify or a .env, by name.',
  ].join('\n');
  if (isMap(doc.contents)) {
    for (const pair of doc.contents.items) {
      if (!isScalar(pair.key)) continue;
      const key = String(pair.key.value);
      const text = describe(key);
      const extra = key === 'apps' ? `\n${APPS_EXAMPLE.split('\n').map((l) => ` ${l}`).join('\n')}` : '';
      if (text) pair.key.commentBefore = wrap(text) + extra;
    }
  }
  const body = doc.toString({ lineWidth: 0 });
  return `# yaml-language-server: $schema=./${SCHEMA_FILE}\n${body}`;
}
