/** IPv4 arithmetic for subnet checks and address plans: addresses as 32-bit integers. */

export function ipToInt(ip: string): number {
  return ip.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

/** First and last address of a CIDR block, the host bits of the given address cleared. */
export function cidrRange(cidr: string): [number, number] {
  const [ip, bits] = cidr.split('/') as [string, string];
  const size = 2 ** (32 - Number(bits));
  const start = Math.floor(ipToInt(ip) / size) * size;
  return [start, start + size - 1];
}

/** RFC 1918 private ranges: LANs. */
export const PRIVATE_RANGES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'] as const;
/** RFC 6598 shared address space: carrier-grade NAT, and Tailscale's addresses. */
export const CGNAT_RANGE = '100.64.0.0/10';
/** RFC 3927 link-local. */
export const LINK_LOCAL_RANGE = '169.254.0.0/16';

/** Ranges the internet does not route to: private, carrier-grade NAT, link-local and loopback. */
const NON_PUBLIC_RANGES = [...PRIVATE_RANGES, CGNAT_RANGE, LINK_LOCAL_RANGE, '127.0.0.0/8'].map(cidrRange);

/** Whether the internet cannot reach `ip` directly (a LAN, a tailnet or a loopback address). */
export function isPrivateAddress(ip: string): boolean {
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) return false;
  const n = ipToInt(ip);
  return NON_PUBLIC_RANGES.some(([low, high]) => n >= low && n <= high);
}
