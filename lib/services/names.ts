/**
 * Every service kind the platform knows how to build, derived from the descriptors of the
 * registry. Config keys under `services:` and `images:` must be one of these, so a typo is caught
 * by the schema rather than silently ignored.
 */
export { SERVICE_NAMES, type ServiceName } from './registry.js';

/** `video-worker` -> `VIDEO_WORKER`: the prefix of the connection variables an app receives. */
export function envPrefix(name: string): string {
  return name.toUpperCase().replace(/-/g, '_');
}
