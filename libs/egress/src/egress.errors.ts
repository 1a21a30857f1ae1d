import { AppError, ErrorCode } from '#libs/common';

/**
 * Why an outbound URL or address was refused: the URL's form (`invalid`, `length`, `scheme`,
 * `credentials`) or the class of address it names or resolves to (ipaddr.js's range names:
 * `loopback`, `private`, `linkLocal`, `carrierGradeNat`, `unspecified`, `multicast`, `broadcast`,
 * `uniqueLocal`, `reserved`, ...).
 */
export type EgressRefusal = string;

/**
 * A tenant-supplied URL the egress policy refuses, at save time or at connect time (EGRESS_REFUSED,
 * HTTP 400). The message names at most the URL's host, never its path, query or credentials.
 */
export class EgressRefusedError extends AppError {
  constructor(
    readonly reason: EgressRefusal,
    message: string,
  ) {
    super(ErrorCode.EgressRefused, message);
  }
}

/** How an allowed request failed to get an answer. */
export type EgressFailureKind = 'timeout' | 'dns' | 'connection' | 'tls' | 'network';

/**
 * An outbound request to an allowed address that got no HTTP answer (EGRESS_UNREACHABLE): `kind`
 * says why; the message names the host only.
 */
export class EgressFailedError extends AppError {
  constructor(
    readonly kind: EgressFailureKind,
    message: string,
  ) {
    super(ErrorCode.EgressUnreachable, message);
  }
}
