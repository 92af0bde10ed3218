/**
 * Every service kind the platform knows how to build, derived from the descriptors of the
 * registry. Config keys under `services:` and `images:` must be one of these, so a typo is caught
 * by the schema rather than silently ignored.
 */
export { SERVICE_NAMES, type ServiceName } from './registry.js';

export { envPrefix } from '../model/values.js';
