import type { ServiceProps } from '../model/service.js';

export const VIDEO_PORT = 8000;

export interface VideoServerOptions {
  /** Service name, prefix of its volumes. */
  readonly name: string;
  readonly modelsSizeGb: number;
  readonly memoryGb: number;
}

/**
 * What the video model servers share: the seed's `server.py` on port 8000, a models and an output
 * volume, a TCP health check through Python (model loading takes minutes).
 */
export function videoServerProps(options: VideoServerOptions): Pick<ServiceProps, 'command' | 'env' | 'ports' | 'volumes' | 'healthCheck' | 'resources'> {
  return {
    command: ['python', 'server.py', '--host', '0.0.0.0', '--port', String(VIDEO_PORT)],
    env: { MODEL_DIR: '/models', OUTPUT_DIR: '/output' },
    ports: [{ port: VIDEO_PORT, name: 'http' }],
    volumes: [
      { name: `${options.name}-models`, mountPath: '/models', sizeGb: options.modelsSizeGb },
      { name: `${options.name}-output`, mountPath: '/output', sizeGb: 50 },
    ],
    healthCheck: { tcp: { port: VIDEO_PORT }, via: 'python', startPeriodSeconds: 600 },
    resources: { cpus: 8, memoryGb: options.memoryGb },
  };
}
