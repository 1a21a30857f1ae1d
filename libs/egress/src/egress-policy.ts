import { addressRefusal, CidrAllowList, parseIpLiteral } from './address-policy.js';
import { EgressRefusedError } from './egress.errors.js';

/** Longest URL a tenant may register (characters): enough for any real endpoint, short enough to show and log. */
export const EGRESS_URL_MAX_CHARS = 2_048;

/** The operator's egress settings (EGRESS_ALLOW_HTTP, EGRESS_ALLOWED_CIDRS). */
export interface EgressSettings {
  /** Whether plain http:// URLs are accepted (for development and tests; https otherwise). */
  allowHttp: boolean;
  /** CIDR ranges (or bare addresses) tenant URLs may reach although they are not public unicast. */
  allowedCidrs: readonly string[];
}

/**
 * The rules for outbound HTTP to URLs a tenant supplied, in one place: what a URL must look like
 * (checked when it is saved and again before every request) and which addresses may be connected
 * to (checked on the address actually dialled, see EgressClient).
 */
export class EgressPolicy {
  private readonly allowList: CidrAllowList;

  constructor(private readonly settings: EgressSettings) {
    this.allowList = new CidrAllowList(settings.allowedCidrs);
  }

  /**
   * The URL as it will be requested: absolute, https (http only with EGRESS_ALLOW_HTTP), at most
   * EGRESS_URL_MAX_CHARS as sent and once normalized (WHATWG URL `href`), no user name or password in it (RFC 9110 4.2.4 deprecates them: they
   * would be stored and shown), and, when its host is an IP literal in any spelling, an allowed one.
   * A host name is judged when it is resolved, at connect time.
   * @throws EgressRefusedError (reason `invalid`, `length`, `scheme`, `credentials` or an address class)
   */
  checkUrl(raw: string): URL {
    if (raw.length > EGRESS_URL_MAX_CHARS) throw new EgressRefusedError('length', `The URL is longer than ${EGRESS_URL_MAX_CHARS} characters`);
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new EgressRefusedError('invalid', 'The URL is not a valid absolute URL');
    }
    // what is stored, shown and requested is the normalized href, which percent-encoding can make several times longer
    if (url.href.length > EGRESS_URL_MAX_CHARS)
      throw new EgressRefusedError('length', `The URL is longer than ${EGRESS_URL_MAX_CHARS} characters once percent-encoded`);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && this.settings.allowHttp)) {
      const allowed = this.settings.allowHttp ? 'https or http' : 'https';
      throw new EgressRefusedError('scheme', `The URL must use ${allowed}`);
    }
    if (url.username !== '' || url.password !== '') throw new EgressRefusedError('credentials', 'The URL must not carry a user name or password');
    if (url.hostname === '') throw new EgressRefusedError('invalid', 'The URL has no host');
    const literal = parseIpLiteral(url.hostname);
    if (literal) this.checkAddress(url.hostname, literal.toString());
    return url;
  }

  /**
   * A host name or IP literal a tenant supplied for a connection that is not HTTP (a mailbox), in the
   * form to dial: ASCII (an IDN as its punycode), IPv6 without brackets. An IP literal in any spelling
   * must be allowed; a name is judged when it is resolved (egressLookup), at connect time.
   * @throws EgressRefusedError (reason `invalid` or an address class)
   */
  checkHost(raw: string): string {
    const host = raw.trim();
    if (host === '' || host.length > 253 || /[\s/@?#\\%]/.test(host))
      throw new EgressRefusedError('invalid', 'The host must be a host name or an IP address');
    const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    let url: URL;
    try {
      url = new URL(`https://${bracketed}/`);
    } catch {
      throw new EgressRefusedError('invalid', 'The host must be a host name or an IP address');
    }
    // a port or anything else the URL parser read out of it is no part of a host
    if (url.port !== '' || url.pathname !== '/') throw new EgressRefusedError('invalid', 'The host must be a host name or an IP address');
    const literal = parseIpLiteral(url.hostname);
    if (literal) this.checkAddress(url.hostname, literal.toString());
    // a name must be one DNS can hold (RFC 1123 2.1): labels of letters, digits and inner hyphens, 63 at most
    else if (
      !url.hostname
        .replace(/\.$/, '')
        .split('.')
        .every((label) => /^(?!-)[a-z0-9-]{1,63}(?<!-)$/.test(label))
    ) {
      throw new EgressRefusedError('invalid', 'The host must be a host name or an IP address');
    }
    return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  }

  /**
   * Refuses `address` (what `host` resolved to, or the literal itself) unless it is public unicast
   * or in EGRESS_ALLOWED_CIDRS.
   * @throws EgressRefusedError naming the host and the address class
   */
  checkAddress(host: string, address: string): void {
    const parsed = parseIpLiteral(address);
    if (!parsed) throw new EgressRefusedError('invalid', `${host} did not resolve to an IP address`);
    const refusal = addressRefusal(parsed, this.allowList);
    if (refusal) throw new EgressRefusedError(refusal.reason, `${host} is ${refusal.words}, which EGRESS_ALLOWED_CIDRS does not allow`);
  }
}
