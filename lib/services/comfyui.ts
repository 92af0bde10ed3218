import { Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
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
          { name: COMFYUI_MODELS_VOLUME, mountPath: `${base}/models`, sizeGb: 100 },
          { name: 'comfyui-input', mountPath: `${base}/input`, sizeGb: 10 },
          { name: 'comfyui-output', mountPath: `${base}/output`, sizeGb: 50 },
          // Saved workflows, settings and the user database (<base>/user/default/workflows, ...).
          { name: 'comfyui-user', mountPath: `${base}/user`, sizeGb: 1 },
        ],
        healthCheck: { http: { port: COMFYUI_PORT, path: '/system_stats' }, via: 'python', startPeriodSeconds: 120 },
        resources: { cpus: 4, memoryGb: 16 },
        gpu: { count: 1 },
        security: { nonRootUid: COMFYUI_UID },
      }),
    );
  }
}
