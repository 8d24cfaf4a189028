// What crosses the boundaries of the MX object: its RPC shape (the job calls
// `probe`), and the JSON the relay mode sends to the prober. Types only, so the
// job, the MX object and the Node prober can all import it.

import type { MxHost, SmtpResult } from "../verify/types";

/** One domain's addresses, for the MX object named after the domain's primary MX host. */
export interface MxProbeRequest {
  /** A-label domain, lower case. */
  domain: string;
  /** The domain's exchangers; tried in preference order. */
  hosts: MxHost[];
  /** Addresses on the wire form (local@asciiDomain). */
  addresses: string[];
}

/**
 * One result per distinct address. `rate_limited` and `greylisted` mean
 * "ask again later"; every result carries the domain's catch-all status.
 */
export interface MxProbeResult {
  results: Record<string, SmtpResult>;
}

/** One domain for the prober: the same input as `probeDomain`. */
export interface RelayProbeRequest {
  domain: string;
  hosts: MxHost[];
  addresses: string[];
  catchAllKnown: boolean | null;
  /** false: do not send the random catch-all probe. Default true. */
  catchAllProbe?: boolean;
}

/** POST {PROBER_URL}/probe body, authenticated with `Authorization: Bearer <PROBER_SECRET>`. */
export interface RelayRequestBody {
  requests: RelayProbeRequest[];
}

/** The answer: `results[i]` answers `requests[i]`. */
export interface RelayResponseBody {
  results: { results: Record<string, SmtpResult>; catchAll: boolean | null }[];
}
