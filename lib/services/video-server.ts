import type { ServiceProps } from '../model/service.js';

export const VIDEO_PORT = 8000;
/** The server's health endpoint: 200 once the model is loaded, 503 while it downloads and loads. */
export const VIDEO_HEALTH_PATH = '/health';

export interface VideoServerOptions {
  /** Service name, prefix of its volumes. */
  readonly name: string;
  readonly modelsSizeGb: number;
  readonly memoryGb: number;
}

/**
 * What the video model servers share: the platform's own server (images/video-server/server.py)
 * around the upstream model, on port 8000, with a models and an output volume. On first start it
 * downloads the weights from Hugging Face (tens of GB) and then loads them, so it is given an hour
 * before a failing health check counts; it is healthy only once the model is loaded.
 */
export function videoServerProps(options: VideoServerOptions): Pick<ServiceProps, 'env' | 'ports' | 'volumes' | 'healthCheck' | 'resources' | 'security' | 'egress'> {
  return {
    env: {
      MODEL_DIR: '/models',
      OUTPUT_DIR: '/output',
      PORT: String(VIDEO_PORT),
      // The text encoders come through the Hugging Face cache: keep it on the models volume.
      HF_HOME: '/models/huggingface',
    },
    ports: [{ port: VIDEO_PORT, name: 'http' }],
    volumes: [
      { name: `${options.name}-models`, mountPath: '/models', sizeGb: options.modelsSizeGb, holds: 'models' },
      { name: `${options.name}-output`, mountPath: '/output', sizeGb: 50, holds: 'state' },
    ],
    healthCheck: { http: { port: VIDEO_PORT, path: VIDEO_HEALTH_PATH }, via: 'python', startPeriodSeconds: 3600 },
    resources: { cpus: 8, memoryGb: options.memoryGb },
    security: { nonRootUid: 1000 },
    egress: [{ host: 'huggingface.co', why: 'model weights, downloaded on first start' }],
  };
}
