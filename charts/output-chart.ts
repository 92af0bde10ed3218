import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';

/** What every rendered Kubernetes object has. */
export interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly [key: string]: unknown };
  readonly [key: string]: unknown;
}

export interface OutputChartProps {
  /** Folder of the chart's files inside dist/k3s, e.g. `apps/llm`. */
  readonly folder: string;
}

/**
 * A chart that knows where its objects are written: one file per object, named by kind,
 * namespace and name, so a pull request shows one file per changed resource.
 */
export class OutputChart extends Chart {
  readonly folder: string;

  constructor(scope: Construct, id: string, props: OutputChartProps) {
    // Every object is named explicitly: no generated names, no hashes, the same bytes every run.
    super(scope, id, { disableResourceNameHashes: true });
    this.folder = props.folder;
  }

  /** File name of one of this chart's objects. */
  fileName(manifest: Manifest): string {
    const kind = manifest.kind.toLowerCase();
    const namespace = manifest.metadata.namespace;
    return namespace ? `${kind}-${namespace}-${manifest.metadata.name}.yaml` : `${kind}-${manifest.metadata.name}.yaml`;
  }
}
