import type { ServiceSettings } from '../config/schema.js';
import { buildContextFiles } from '../image-build.js';
import { IMAGE_BUILDS, PINNED_IMAGES } from '../images.js';
import type { Node } from '../model/node.js';
import type { ServiceProps } from '../model/service.js';
import type { Zone } from '../model/zone.js';
import type { ServiceName } from './names.js';

/** What every catalog service is given by the stack that places it. */
export interface CatalogServiceProps {
  /** Zone it lives in. */
  readonly zone: Zone;
  /** Node it runs on, or every node for per-node services. */
  readonly nodes: readonly Node[];
  /** Image override from `images:`. @default the pinned image of the service */
  readonly image?: string;
  /** Overrides from `services.<name>:` (resources, extra env, GPUs). @default none */
  readonly settings?: ServiceSettings;
}

type OwnProps = Omit<ServiceProps, 'zone' | 'nodes' | 'image' | 'configPath' | 'build'>;

/**
 * The one place catalog defaults meet config overrides: pinned image (and its build context,
 * for the images the platform builds) unless overridden,
 * resources and GPU count from `services.<name>`, extra env appended.
 */
export function catalogProps(name: ServiceName, props: CatalogServiceProps, own: OwnProps): ServiceProps {
  const settings = props.settings ?? {};
  const resources = own.resources ?? { cpus: 1, memoryGb: 1 };
  const gpu =
    own.gpu === undefined
      ? undefined
      : { count: settings.gpus ?? own.gpu.count, devices: settings.gpuDevices ?? own.gpu.devices };
  // The platform's own build, unless `images:` names another image.
  const build = props.image === undefined ? IMAGE_BUILDS[name] : undefined;
  return {
    ...own,
    build: build ? { files: buildContextFiles(build) } : undefined,
    zone: props.zone,
    nodes: props.nodes,
    perNode: own.perNode,
    image: props.image ?? PINNED_IMAGES[name],
    configPath: ['services', name],
    resources: { cpus: settings.cpus ?? resources.cpus, memoryGb: settings.memoryGb ?? resources.memoryGb },
    gpu,
    env: { ...own.env, ...settings.env },
  };
}
