import { Construct } from 'constructs';
import type { ZoneConfig } from '../config/schema.js';
import { cidrRange, intToIp } from './ipv4.js';

export interface ZoneProps {
  /** The zone as configured. */
  readonly config: ZoneConfig;
}

/**
 * A network segment (VLAN). Traffic between zones is deny-by-default: a service reaches another
 * only along a declared connection, which is what every renderer derives its networks from.
 */
export class Zone extends Construct {
  readonly name: string;
  readonly vlan?: number;
  readonly subnet?: string;
  /** Router address on the VLAN: as configured, else the first address of the subnet. */
  readonly gateway?: string;
  /** No route out of the zone: egress only for services that declare it. */
  readonly isolated: boolean;
  readonly driver: ZoneConfig['driver'];
  /** k3s: pods also join the VLAN through Multus. */
  readonly multus: boolean;
  readonly description?: string;

  constructor(scope: Construct, name: string, props: ZoneProps) {
    super(scope, name);
    this.name = name;
    this.vlan = props.config.vlan;
    this.subnet = props.config.subnet;
    this.gateway = props.config.gateway ?? (this.subnet ? intToIp(cidrRange(this.subnet)[0] + 1) : undefined);
    this.isolated = props.config.isolated;
    this.driver = props.config.driver;
    this.multus = props.config.multus;
    this.description = props.config.description;
  }

  /** Kubernetes namespace of this zone. */
  get namespace(): string {
    return this.name;
  }

  /** Name of the Docker network of this zone on every node. */
  get networkName(): string {
    return `zone-${this.name}`;
  }
}
