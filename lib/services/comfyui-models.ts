import { Platform } from '../model/platform.js';
import { Service } from '../model/service.js';
import type { Stack } from '../model/stack.js';
import { COMFYUI_MODELS_VOLUME, COMFYUI_UID } from './comfyui.js';
import { defineService } from './descriptor.js';
import { catalogProps, type CatalogServiceProps } from './common.js';

interface ModelFile {
  readonly folder: string;
  readonly file: string;
  readonly url: string;
}

const HF = 'https://huggingface.co';

/** Files of each ComfyUI model set, by folder under models/. */
export const COMFYUI_MODEL_FILES: Readonly<Record<string, readonly ModelFile[]>> = {
  sdxl: [
    { folder: 'checkpoints', file: 'sd_xl_base_1.0.safetensors', url: `${HF}/stabilityai/stable-diffusion-xl-base-1.0/resolve/main/sd_xl_base_1.0.safetensors` },
    { folder: 'checkpoints', file: 'sd_xl_refiner_1.0.safetensors', url: `${HF}/stabilityai/stable-diffusion-xl-refiner-1.0/resolve/main/sd_xl_refiner_1.0.safetensors` },
    { folder: 'vae', file: 'sdxl_vae.safetensors', url: `${HF}/stabilityai/sdxl-vae/resolve/main/sdxl_vae.safetensors` },
  ],
  'flux-schnell': [
    { folder: 'unet', file: 'flux1-schnell.safetensors', url: `${HF}/black-forest-labs/FLUX.1-schnell/resolve/main/flux1-schnell.safetensors` },
    { folder: 'vae', file: 'ae.safetensors', url: `${HF}/black-forest-labs/FLUX.1-schnell/resolve/main/ae.safetensors` },
    { folder: 'clip', file: 'clip_l.safetensors', url: `${HF}/comfyanonymous/flux_text_encoders/resolve/main/clip_l.safetensors` },
    { folder: 'clip', file: 't5xxl_fp8_e4m3fn.safetensors', url: `${HF}/comfyanonymous/flux_text_encoders/resolve/main/t5xxl_fp8_e4m3fn.safetensors` },
  ],
  'flux-dev': [
    { folder: 'unet', file: 'flux1-dev.safetensors', url: `${HF}/black-forest-labs/FLUX.1-dev/resolve/main/flux1-dev.safetensors` },
    { folder: 'vae', file: 'ae.safetensors', url: `${HF}/black-forest-labs/FLUX.1-dev/resolve/main/ae.safetensors` },
    { folder: 'clip', file: 'clip_l.safetensors', url: `${HF}/comfyanonymous/flux_text_encoders/resolve/main/clip_l.safetensors` },
    { folder: 'clip', file: 't5xxl_fp8_e4m3fn.safetensors', url: `${HF}/comfyanonymous/flux_text_encoders/resolve/main/t5xxl_fp8_e4m3fn.safetensors` },
  ],
};

/** One-shot: downloads the configured model sets into ComfyUI's models volume (skips files already there). */
export class ComfyUiModels extends Service {
  constructor(stack: Stack, props: CatalogServiceProps) {
    const platform = Platform.of(stack);
    const sets = platform.config.models.comfyui;
    const gated = sets.includes('flux-dev');
    const seen = new Set<string>();
    const files = sets.flatMap((set) => COMFYUI_MODEL_FILES[set] ?? []).filter((f) => {
      const key = `${f.folder}/${f.file}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    const auth = gated ? ' --header "Authorization: Bearer $HF_TOKEN"' : '';
    // busybox wget (in the image, no package to install, so no root and no extra destination)
    // resumes with -c. A download lands under a .part name and takes its own name only when whole,
    // so a finished file is never fetched again: the job runs on every deploy and every sync.
    const script = [
      'set -e',
      ...files.map((f) => {
        const path = `/models/${f.folder}/${f.file}`;
        return `if [ -f ${path} ]; then echo "have ${f.file}"; else mkdir -p /models/${f.folder} && wget -c${auth} -O ${path}.part ${f.url} && mv ${path}.part ${path}; fi`;
      }),
      `echo "ComfyUI models ready: ${sets.join(', ')}"`,
    ].join('\n');
    super(
      stack,
      'comfyui-models',
      catalogProps('comfyui-models', props, {
        description: `Downloads ComfyUI model sets once (${sets.join(', ')})`,
        entrypoint: ['/bin/sh', '-c'],
        command: [script],
        env: gated ? { HF_TOKEN: platform.secret('HF_TOKEN', { generate: 'manual', description: 'Hugging Face token for gated FLUX.1-dev' }) } : {},
        volumes: [{ name: COMFYUI_MODELS_VOLUME, mountPath: '/models', sizeGb: 100, holds: 'models' }],
        oneShot: true,
        // As ComfyUI's user: the files are its own, and a bind-mode folder has one owner.
        security: { user: `${COMFYUI_UID}:${COMFYUI_UID}` },
        resources: { cpus: 1, memoryGb: 0.5 },
        egress: [{ host: 'huggingface.co', why: 'model downloads' }],
      }),
    );
  }
}

/** Downloads ComfyUI's model sets into its models volume, beside it. */
export const comfyuiModels = defineService({
  name: 'comfyui-models',
  image: 'alpine:3.22.1',
  stack: 'image',
  zone: 'gpu',
  on: { with: 'comfyui' },
  requires: ['comfyui'],
  create: ({ stack, props, built }) => (built('comfyui') ? new ComfyUiModels(stack, props) : undefined),
});
