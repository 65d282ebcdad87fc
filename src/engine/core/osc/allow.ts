/**
 * Sender allow-lists for network listeners: IP addresses and CIDR ranges
 * ("192.168.1.0/24", "10.0.0.5", "fd00::/8"), matched with ipaddr.js (the
 * parser behind Express's proxy-addr) rather than hand-written bit masks.
 * IPv4-mapped IPv6 senders (::ffff:10.0.0.5, what a dual-stack socket reports)
 * match their IPv4 ranges. Pure.
 */
import ipaddr from 'ipaddr.js';

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** Why an allow-list entry is not an address or range, or undefined when it is one. */
export function allowEntryProblem(entry: string): string | undefined {
  const text = String(entry).trim();
  const ok = text.includes('/')
    ? ipaddr.IPv4.isValidCIDRFourPartDecimal(text) || ipaddr.IPv6.isValidCIDR(text)
    : ipaddr.IPv4.isValidFourPartDecimal(text) || ipaddr.IPv6.isValid(text);
  return ok ? undefined : `"${entry}" is not an IP address or CIDR range (expected like 192.168.1.0/24 or 10.0.0.5)`;
}

function toRange(entry: string): Range {
  const text = entry.trim();
  if (text.includes('/')) return ipaddr.parseCIDR(text);
  const a = ipaddr.parse(text);
  return [a, a.kind() === 'ipv4' ? 32 : 128];
}

/** Tests sender addresses against a list of addresses and ranges. */
export class AllowList {
  private readonly ranges: Range[];

  /** Throws a RangeError naming the first bad entry. */
  constructor(readonly entries: readonly string[]) {
    this.ranges = entries.map((e) => {
      const problem = allowEntryProblem(e);
      if (problem) throw new RangeError(problem);
      return toRange(e);
    });
  }

  /** True when `address` (as a socket reports it) is in one of the ranges; false for anything unparsable. */
  allows(address: string): boolean {
    let a: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      // process() turns ::ffff:a.b.c.d into a.b.c.d so it meets IPv4 ranges.
      a = ipaddr.process(address.replace(/%.*$/, ''));
    } catch {
      return false;
    }
    for (const r of this.ranges) {
      if (r[0].kind() === a.kind() && a.match(r)) return true;
      // An IPv4 sender against an IPv4-mapped IPv6 range (::ffff:10.0.0.0/104).
      if (a.kind() === 'ipv4' && r[0].kind() === 'ipv6' && (a as ipaddr.IPv4).toIPv4MappedAddress().match(r)) return true;
    }
    return false;
  }
}

/** True for a host that only this machine can reach (127/8, ::1, "localhost"). */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  try {
    return ipaddr.process(host).range() === 'loopback';
  } catch {
    return false;
  }
}
