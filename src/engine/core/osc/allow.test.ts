import { describe, expect, it } from 'vitest';
import { AllowList, allowEntryProblem, isLoopbackHost } from './allow.ts';

describe('AllowList', () => {
  it('matches addresses and CIDR ranges, IPv4 and IPv6, and IPv4-mapped senders', () => {
    const list = new AllowList(['192.168.1.0/24', '10.0.0.5', 'fd00::/8']);
    expect(list.allows('192.168.1.77')).toBe(true);
    expect(list.allows('192.168.2.1')).toBe(false);
    expect(list.allows('10.0.0.5')).toBe(true);
    expect(list.allows('10.0.0.6')).toBe(false);
    expect(list.allows('::ffff:192.168.1.9')).toBe(true);
    expect(list.allows('fd12::1')).toBe(true);
    expect(list.allows('fe80::1%eth0')).toBe(false);
    expect(list.allows('not an address')).toBe(false);
  });

  it('names a bad entry', () => {
    expect(allowEntryProblem('192.168.1.0/24')).toBeUndefined();
    expect(allowEntryProblem('192.168.1.0/33')).toMatch(/"192.168.1.0\/33" is not an IP address or CIDR range/);
    expect(allowEntryProblem('10')).toMatch(/not an IP address/); // ipaddr.js would take "10" as 0.0.0.10
    expect(allowEntryProblem('desk.local')).toMatch(/not an IP address/);
    expect(() => new AllowList(['10.0.0.1', 'x/8'])).toThrow(/"x\/8"/);
  });

  it('tells loopback hosts', () => {
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('127.0.0.2')).toBe(true);
    expect(isLoopbackHost('::1')).toBe(true);
    expect(isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('0.0.0.0')).toBe(false);
    expect(isLoopbackHost('192.168.1.4')).toBe(false);
  });
});
