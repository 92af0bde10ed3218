import { Construct } from 'constructs';
import type { ConfigIssue } from '../config/errors.js';
import type { PlatformConfig } from '../config/schema.js';
import { GpuAssignment } from './gpu-assignment.js';
import { placeGpus, type GpuPlacement } from './gpu-placement.js';
import { hostPortClashes } from './host-ports.js';
import { LinkPlan } from './link-plan.js';
import { Node } from './node.js';
import type { Route } from './route.js';
import { Secret, type SecretProps } from './secret.js';
import { Service, type Connection } from './service.js';
import { Stack } from './stack.js';
import { StartOrder } from './start-order.js';
import { treeVersion } from './tree-version.js';
import { Zone } from './zone.js';
import { compareText } from '../output/order.js';

/** What Platform derives from its tree, as of one tree version. */
interface DerivedCollections {
  readonly version: number;
  readonly stacks: readonly Stack[];
  readonly services: readonly Service[];
  readonly byName: ReadonlyMap<string, Service>;
  readonly connections: readonly Connection[];
  readonly consumers: ReadonlyMap<Service, readonly Connection[]>;
}

export interface PlatformProps {
  /** The validated config (every default applied). */
  readonly config: PlatformConfig;
}

/** A service kind the placement left out, and why. */
export interface LeftOutService {
  readonly service: string;
  readonly reason: string;
}

/**
 * The root of the construct tree: nodes, zones, secrets and routes of the homelab, and its stacks
 * of services. Everything a renderer needs is read from here; nothing is read from the config
 * again after the tree is built.
 */
export class Platform extends Construct {
  readonly config: PlatformConfig;
  readonly domain: string;
  readonly tls: 'acme' | 'internal';
  readonly nodes: ReadonlyMap<string, Node>;
  readonly zones: ReadonlyMap<string, Zone>;
  private readonly nodesScope: Construct;
  private readonly zonesScope: Construct;
  private readonly secretsScope: Construct;
  private readonly routeList: Route[] = [];
  private readonly leftOutList: LeftOutService[] = [];
  private placementCache?: GpuPlacement;
  private assignmentCache?: GpuAssignment;
  private derivedCache?: DerivedCollections;
  private startOrderCache?: { readonly version: number; readonly order: StartOrder };
  private linkPlanCache?: { readonly version: number; readonly plan: LinkPlan };

  constructor(props: PlatformProps) {
    super(undefined as unknown as Construct, '');
    this.config = props.config;
    this.domain = props.config.domain;
    this.tls = props.config.tls ?? (props.config.exposure === 'public' ? 'acme' : 'internal');
    this.nodesScope = new Construct(this, 'nodes');
    this.zonesScope = new Construct(this, 'zones');
    this.secretsScope = new Construct(this, 'secrets');
    const nodes = new Map<string, Node>();
    for (const [name, config] of Object.entries(props.config.nodes)) {
      const bindAddress = props.config.exposure === 'tailnet' ? config.tailscaleAddress : config.address;
      nodes.set(name, new Node(this.nodesScope, name, { config, bindAddress }));
    }
    this.nodes = nodes;
    const zones = new Map<string, Zone>();
    for (const [name, config] of Object.entries(props.config.zones)) zones.set(name, new Zone(this.zonesScope, name, { config }));
    this.zones = zones;
  }

  static of(construct: Construct): Platform {
    const root = construct.node.root;
    if (!(root instanceof Platform)) throw new Error(`${construct.node.path} is not inside a Platform`);
    return root;
  }

  /** The stack of that name, created on first use. */
  stack(name: string, description: string): Stack {
    const existing = this.node.tryFindChild(name);
    if (existing instanceof Stack) return existing;
    return new Stack(this, name, { description });
  }

  get stacks(): Stack[] {
    return [...this.derived().stacks];
  }

  get services(): Service[] {
    return [...this.derived().services];
  }

  service(name: string): Service | undefined {
    return this.derived().byName.get(name);
  }

  /** Declare (or get) a secret by name. The same name always means the same value. */
  secret(name: string, props: SecretProps): Secret {
    const existing = this.secretsScope.node.tryFindChild(name);
    if (existing instanceof Secret) {
      if (existing.generate !== props.generate) {
        throw new Error(`secret ${name} is declared as ${existing.generate} and as ${props.generate}`);
      }
      return existing;
    }
    return new Secret(this.secretsScope, name, props);
  }

  get secrets(): Secret[] {
    return this.secretsScope.node.children.filter((c): c is Secret => c instanceof Secret).sort((a, b) => compareText(a.name, b.name));
  }

  /**
   * Record a service kind that is on by default but that no node can hold (a GPU-only kind on a
   * platform without GPUs, or what needs it): `synth` names it in its summary.
   */
  leaveOut(service: string, reason: string): void {
    this.leftOutList.push({ service, reason });
  }

  /** Service kinds on by default that the placement left out, with why, in build order. */
  get leftOut(): readonly LeftOutService[] {
    return this.leftOutList;
  }

  addRoute(route: Route): void {
    this.routeList.push(route);
  }

  get routes(): readonly Route[] {
    return this.routeList;
  }

  /** `<host>.<domain>` */
  fqdn(host: string): string {
    return `${host}.${this.domain}`;
  }

  get connections(): Connection[] {
    return [...this.derived().connections];
  }

  /** Services that dial `service`. */
  consumersOf(service: Service): Connection[] {
    return [...(this.derived().consumers.get(service) ?? [])];
  }

  /**
   * The collections every renderer and rule reads, computed once per state of the tree: a synth
   * of a thousand services reads them thousands of times, and filtering the tree on each read
   * made that quadratic. Rebuilt whenever a stack, service or connection has been added since.
   */
  private derived(): DerivedCollections {
    const version = treeVersion(this);
    if (this.derivedCache?.version === version) return this.derivedCache;
    const stacks = this.node.children.filter((c): c is Stack => c instanceof Stack);
    const services = stacks.flatMap((s) => s.services);
    const byName = new Map<string, Service>();
    // The first of a name wins, as a search in declaration order would find it.
    for (const s of services) if (!byName.has(s.name)) byName.set(s.name, s);
    const connections = services.flatMap((s) => s.connections);
    const consumers = new Map<Service, Connection[]>();
    for (const c of connections) {
      const list = consumers.get(c.to);
      if (list) list.push(c);
      else consumers.set(c.to, [c]);
    }
    this.derivedCache = { version, stacks, services, byName, connections, consumers };
    return this.derivedCache;
  }

  get gpuPlacement(): GpuPlacement {
    this.placementCache ??= placeGpus(this.services);
    return this.placementCache;
  }

  /** Who runs on which GPU, with k3s time-slicing: derived once, read by every target and check. */
  get gpuAssignment(): GpuAssignment {
    this.assignmentCache ??= new GpuAssignment(this);
    return this.assignmentCache;
  }

  /**
   * Per connection who dials whom, on which node, through which network and address, and what is
   * published where: derived once per state of the tree, read by both targets and every check.
   */
  get linkPlan(): LinkPlan {
    const version = treeVersion(this);
    if (this.linkPlanCache?.version !== version) this.linkPlanCache = { version, plan: new LinkPlan(this) };
    return this.linkPlanCache.plan;
  }

  /** Who waits for whom, the stacks' deploy order and k3s sync waves: derived once per state of the tree. */
  get startOrder(): StartOrder {
    const version = treeVersion(this);
    if (this.startOrderCache?.version !== version) this.startOrderCache = { version, order: new StartOrder(this) };
    return this.startOrderCache.order;
  }

  /** Device indices of `service` on `node` ([] when it has no GPU request). */
  gpuDevices(service: Service, node: Node): readonly number[] {
    return this.gpuPlacement.assignments.get(service)?.get(node) ?? [];
  }

  /** Deployed nodes (not external), in config order. */
  get deployedNodes(): Node[] {
    return [...this.nodes.values()].filter((n) => n.deployed);
  }

  /** Stacks in deploy order (`startOrder.stacks`): after every stack they wait for. Throws on a cycle. */
  stackOrder(): Stack[] {
    return this.startOrder.stacks;
  }

  /** Checks that need the built tree: GPU placement, host-port clashes, routes. */
  validate(): ConfigIssue[] {
    const issues: ConfigIssue[] = [...this.gpuPlacement.issues];
    issues.push(...hostPortClashes(this));

    const hosts = new Map<string, Route>();
    for (const route of this.routes) {
      const other = hosts.get(route.host);
      if (other) {
        issues.push({
          path: [...route.configPath, 'host'],
          message: `${this.fqdn(route.host)} is already routed by ${other.configPath.join('.')}; each route needs its own host`,
          rule: 'route-duplicate-host',
        });
      }
      hosts.set(route.host, route);
    }
    for (const route of this.routes) {
      route.cors.forEach((origin, index) => {
        if (!hosts.has(origin)) {
          issues.push({
            path: [...route.configPath, 'cors', index],
            message: `no route has host "${origin}"; routes: ${[...hosts.keys()].sort().join(', ')}`,
          });
        }
      });
    }
    try {
      this.stackOrder();
    } catch (err) {
      issues.push({ path: ['apps'], message: (err as Error).message, rule: 'connection-cycle' });
    }
    return issues;
  }
}
