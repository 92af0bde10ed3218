/**
 * Addresses for a macvlan zone network. Every node creates the same network on the same VLAN, and
 * Docker's address allocation is per host: without separate ranges two nodes would hand out the
 * same address. The subnet is split into power-of-two blocks; block 0 stays for the router and
 * other hosts on the VLAN, node i allocates from block i + 1.
 */
import { cidrRange, intToIp } from '../model/ipv4.js';

/** Blocks needed for `nodeCount` nodes plus the reserved block 0. */
function blockBits(nodeCount: number): number {
  return Math.ceil(Math.log2(nodeCount + 1));
}

/** The smallest subnet prefix that still gives each node a block of at least 4 addresses. */
export function largestPrefixFor(nodeCount: number): number {
  return 30 - blockBits(nodeCount);
}

export interface MacvlanPlan {
  readonly gateway: string;
  /** The block this node's Docker allocates container addresses from. */
  readonly ipRange: string;
}

export function macvlanPlan(subnet: string, nodeIndex: number, nodeCount: number, gateway?: string): MacvlanPlan {
  const prefix = Number(subnet.split('/')[1]);
  const [base] = cidrRange(subnet);
  const rangePrefix = prefix + blockBits(nodeCount);
  if (rangePrefix > 30) throw new Error(`subnet ${subnet} is too small to split between ${nodeCount} nodes`);
  const blockSize = 2 ** (32 - rangePrefix);
  return { gateway: gateway ?? intToIp(base + 1), ipRange: `${intToIp(base + (nodeIndex + 1) * blockSize)}/${rangePrefix}` };
}
