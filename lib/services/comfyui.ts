import { Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import { catalogProps, type CatalogServiceProps } from './common.js';

export const COMFYUI_PORT = 8188;
export const COMFYUI_MODELS_VOLUME = 'comfyui-models';

/** ComfyUI: image generation workflows on the GPU. Its UI is routed behind basic auth. */
export class ComfyUi extends Service {
  constructor(stack: Stack, props: CatalogServiceProps) {
    super(
      stack,
      'comfyui',
      catalogProps('comfyui', props, {
        description: 'Image generation (ComfyUI: SDXL, FLUX)',
        env: {
          CLI_ARGS: `--listen 0.0.0.0 --port ${COMFYUI_PORT}`,
          // Caddy does the authentication; the image's own login would ask twice.
          WEB_ENABLE_AUTH: 'false',
        },
        ports: [{ port: COMFYUI_PORT, name: 'http' }],
        volumes: [
          { name: COMFYUI_MODELS_VOLUME, mountPath: '/workspace/ComfyUI/models', sizeGb: 100 },
          { name: 'comfyui-input', mountPath: '/workspace/ComfyUI/input', sizeGb: 10 },
          { name: 'comfyui-output', mountPath: '/workspace/ComfyUI/output', sizeGb: 50 },
          { name: 'comfyui-workflows', mountPath: '/workspace/ComfyUI/user/default/workflows', sizeGb: 1 },
        ],
        healthCheck: { http: { port: COMFYUI_PORT, path: '/system_stats' }, via: 'curl', startPeriodSeconds: 120 },
        resources: { cpus: 4, memoryGb: 16 },
        gpu: { count: 1 },
      }),
    );
  }
}
