import { Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import { defineService } from './descriptor.js';
import { catalogProps, type CatalogServiceProps } from './common.js';

export const COMFYUI_PORT = 8188;
export const COMFYUI_MODELS_VOLUME = 'comfyui-models';
/** The user ComfyUI runs as (images/comfyui/Dockerfile `USER 1000`): its model downloader writes as it too. */
export const COMFYUI_UID = 1000;
/**
 * ComfyUI's `--base-directory` (comfy/cli_args.py, since Comfy-Org/ComfyUI#6600): models, input,
 * output, user and custom_nodes are looked up under it instead of beside main.py.
 */
export const COMFYUI_BASE_DIRECTORY = '/workspace';

/**
 * ComfyUI: image generation workflows on the GPU, from the platform's build of a ComfyUI release
 * (images/comfyui/Dockerfile: ENTRYPOINT `python main.py`, uid 1000). Its UI is routed behind basic auth.
 */
export class ComfyUi extends Service {
  constructor(stack: Stack, props: CatalogServiceProps) {
    const base = COMFYUI_BASE_DIRECTORY;
    super(
      stack,
      'comfyui',
      catalogProps('comfyui', props, {
        description: 'Image generation (ComfyUI: SDXL, FLUX)',
        // Every address of the container: Caddy reaches it over the zone network (basic auth first).
        command: ['--listen', '0.0.0.0', '--port', String(COMFYUI_PORT), '--base-directory', base, '--disable-auto-launch'],
        ports: [{ port: COMFYUI_PORT, name: 'http' }],
        volumes: [
          // What comfyui-models downloads, read from <base>/models/<folder>.
          { name: COMFYUI_MODELS_VOLUME, mountPath: `${base}/models`, sizeGb: 100, holds: 'models' },
          { name: 'comfyui-input', mountPath: `${base}/input`, sizeGb: 10, holds: 'state' },
          { name: 'comfyui-output', mountPath: `${base}/output`, sizeGb: 50, holds: 'state' },
          // Saved workflows, settings and the user database (<base>/user/default/workflows, ...).
          { name: 'comfyui-user', mountPath: `${base}/user`, sizeGb: 1, holds: 'state' },
        ],
        healthCheck: { http: { port: COMFYUI_PORT, path: '/system_stats' }, via: 'python', startPeriodSeconds: 120 },
        resources: { cpus: 4, memoryGb: 16 },
        gpuModels: { kind: 'largest', models: (platform) => platform.config.models.comfyui },
        security: { nonRootUid: COMFYUI_UID },
      }),
    );
  }
}

/** ComfyUI: one GPU; no login of its own, so its site asks for basic auth at the edge. */
export const comfyui = defineService({
  name: 'comfyui',
  image: 'localhost/platform/comfyui:v0.3.60-1',
  // Tags: `<upstream ref>-<revision of our build>`.
  build: {
    sources: ['comfyui'],
    upstream: { repo: 'comfyanonymous/ComfyUI', ref: 'v0.3.60', arg: 'COMFYUI_REF' },
    contextSha256: '6ead3f28a4ab7a093a430f18f676ee454dae3f61a99571659cc4063aedf67b86',
  },
  stack: 'image',
  zone: 'gpu',
  on: 'gpu',
  gpus: 1,
  adminWithoutLogin: true,
  inference: true,
  routes: [{ host: 'comfyui', port: COMFYUI_PORT, auth: 'basic', rank: 2 }],
  create: ({ stack, props }) => new ComfyUi(stack, props),
});
