import { Construct } from 'constructs';
import { Service } from './service.js';
import { treeChanged } from './tree-version.js';

export interface StackProps {
  /** One line: what the stack is for. */
  readonly description: string;
}

/**
 * A unit of deployment: one Coolify application (compose file) per node it spans, one ArgoCD
 * Application on k3s. Small stacks keep each application's .env down to the variables its own
 * services read.
 */
export class Stack extends Construct {
  readonly name: string;
  readonly description: string;

  constructor(scope: Construct, name: string, props: StackProps) {
    super(scope, name);
    treeChanged(this);
    this.name = name;
    this.description = props.description;
  }

  get services(): Service[] {
    return this.node.children.filter((c): c is Service => c instanceof Service);
  }
}
