import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** IPv4-compatible IPv6 (RFC 4291 2.5.5.1, deprecated): `::a.b.c.d`, which ipaddr.js calls `unicast`. */
const IPV4_COMPATIBLE = ipaddr.parseCIDR('::/96');

/** Words for the ranges an address may fall in (ipaddr.js's names), for messages. */
const RANGE_WORDS: Readonly<Record<string, string>> = {
  loopback: 'a loopback address',
  private: 'a private address (RFC 1918)',
  linkLocal: 'a link-local address (cloud metadata lives there)',
  carrierGradeNat: 'a shared address (100.64.0.0/10, RFC 6598)',
  unspecified: 'the unspecified address',
  multicast: 'a multicast address',
  broadcast: 'the broadcast address',
  uniqueLocal: 'a unique local IPv6 address (fc00::/7)',
  reserved: 'a reserved address',
};

/**
 * An operator's allow-list of CIDR ranges (EGRESS_ALLOWED_CIDRS) that tenant URLs may reach even
 * though they are not public unicast; a bare address counts as /32 or /128.
 * @throws Error naming the entry when one is not an address or CIDR
 */
export class CidrAllowList {
  private readonly ranges: [Address, number][];

  constructor(entries: readonly string[]) {
    this.ranges = entries.map((entry) => {
      if (ipaddr.isValidCIDR(entry)) return ipaddr.parseCIDR(entry);
      if (ipaddr.isValid(entry)) {
        const address = ipaddr.parse(entry);
        return [address, address.kind() === 'ipv4' ? 32 : 128];
      }
      throw new Error(`"${entry}" is not an IP address or CIDR range`);
    });
  }

  permits(address: Address): boolean {
    return this.ranges.some(([range, bits]) => range.kind() === address.kind() && address.match(range, bits));
  }
}

/**
 * Parses an IP literal in any form the C library and WHATWG URL parser accept for IPv4 (dotted, one
 * to four parts, decimal, octal `0177.0.0.1`, hex `0x7f.1`, a single number `2130706433`) or IPv6
 * (with or without brackets, with a zone id); undefined for anything else (a host name).
 * IPv4-mapped IPv6 (`::ffff:127.0.0.1`) comes back as the IPv4 address it maps (ipaddr.js `process`).
 */
export function parseIpLiteral(text: string): Address | undefined {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (!ipaddr.isValid(bare)) return undefined;
  return ipaddr.process(bare);
}

/**
 * Why an address may not be connected to, or null when it may: only public unicast addresses
 * (ipaddr.js range `unicast`) pass, and whatever the allow-list permits. IPv4-mapped IPv6 is judged
 * as the IPv4 address it maps; other IPv6 forms that embed IPv4 (6to4, Teredo, NAT64 rfc6052 and
 * rfc6145, and IPv4-compatible `::a.b.c.d`) are refused as `reserved`, since what they reach depends
 * on a translator or tunnel.
 * Ranges: RFC 6890 special-purpose registries as ipaddr.js encodes them.
 */
export function addressRefusal(address: Address, allowList: CidrAllowList): { reason: string; words: string } | null {
  const range = address.kind() === 'ipv6' && address.match(IPV4_COMPATIBLE) && address.range() === 'unicast' ? 'reserved' : address.range();
  if (range === 'unicast' || allowList.permits(address)) return null;
  const reason = range in RANGE_WORDS ? range : 'reserved';
  return { reason, words: RANGE_WORDS[reason] };
}
