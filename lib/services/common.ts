import { ConfigIssues } from '../config/errors.js';
import type { ServiceSettings } from '../config/schema.js';
import { buildContextFiles } from '../image-build.js';
import type { Node } from '../model/node.js';
import { Secret } from '../model/secret.js';
import type { ServiceProps } from '../model/service.js';
import { EnvTemplate, type EnvValue } from '../model/values.js';
import type { Zone } from '../model/zone.js';
import type { ServiceDescriptor } from './descriptor.js';

/** What every catalog service is given by the stack that places it. */
export interface CatalogServiceProps {
  /** The service kind's descriptor: its pinned image, build and default GPUs. */
  readonly descriptor: ServiceDescriptor;
  /** Zone it lives in. */
  readonly zone: Zone;
  /** Node it runs on, or every node for per-node services. */
  readonly nodes: readonly Node[];
  /** Image override from `images:`. @default the pinned image of the service */
  readonly image?: string;
  /** Overrides from `services.<name>:` (resources, extra env, GPUs). @default none */
  readonly settings?: ServiceSettings;
  /**
   * A GPU kind that can run on the CPU (`cpuFallback`) placed on the CPU: it gets no GPU.
   * @default false
   */
  readonly onCpu?: boolean;
}

type OwnProps = Omit<ServiceProps, 'zone' | 'nodes' | 'image' | 'configPath' | 'build' | 'gpu' | 'adminWithoutLogin' | 'inference'>;

/** A value filled from a secret (directly or composed with one, like a connection URL). */
function carriesSecret(value: EnvValue | undefined): boolean {
  return value instanceof Secret || (value instanceof EnvTemplate && value.parts.some((p) => p instanceof Secret));
}

/** Extra env from `services.<name>.env`; a variable the platform fills from a secret can never become a literal. */
function mergeEnv(name: string, own: OwnProps['env'], extra: Readonly<Record<string, string>> | undefined): OwnProps['env'] {
  const overridden = Object.keys(extra ?? {}).filter((key) => carriesSecret(own?.[key]));
  if (overridden.length > 0) {
    throw new ConfigIssues(
      overridden.map((key) => ({
        path: ['services', name, 'env', key],
        message: `${key} is filled from a secret the platform manages; a literal here would replace it and land in git and every output. Remove it and set the secret instead`,
        rule: 'secret-literal',
      })),
    );
  }
  return { ...own, ...extra };
}

/**
 * The one place catalog defaults meet config overrides: the descriptor's pinned image (and its
 * build context, for the images the platform builds) unless overridden, its GPUs unless
 * `services.<name>.gpus` / `gpuDevices` say otherwise, resources from `services.<name>`, extra
 * env appended.
 */
export function catalogProps(name: string, props: CatalogServiceProps, own: OwnProps): ServiceProps {
  const descriptor = props.descriptor;
  if (descriptor.name !== name) throw new Error(`service ${name} built from the descriptor of ${descriptor.name}`);
  const settings = props.settings ?? {};
  const resources = own.resources ?? { cpus: 1, memoryGb: 1 };
  const gpu =
    descriptor.gpus === undefined || props.onCpu
      ? undefined
      : { count: settings.gpus ?? descriptor.gpus, devices: settings.gpuDevices, vendors: descriptor.gpuVendors ?? ['nvidia'] };
  // The ROCm build where it runs on AMD GPUs (a single-instance kind is on one node).
  const onAmd = gpu !== undefined && props.nodes.length > 0 && props.nodes.every((n) => n.gpuVendor === 'amd');
  // The platform's own build, unless `images:` names another image.
  const build = props.image === undefined ? descriptor.build : undefined;
  return {
    ...own,
    build: build ? { files: buildContextFiles(build) } : undefined,
    zone: props.zone,
    nodes: props.nodes,
    perNode: own.perNode,
    image: props.image ?? (onAmd && descriptor.rocmTagSuffix ? `${descriptor.image}${descriptor.rocmTagSuffix}` : descriptor.image),
    adminWithoutLogin: descriptor.adminWithoutLogin ?? false,
    inference: descriptor.inference ?? false,
    configPath: ['services', name],
    resources: { cpus: settings.cpus ?? resources.cpus, memoryGb: settings.memoryGb ?? resources.memoryGb },
    gpu,
    env: mergeEnv(name, own.env, settings.env),
  };
}
