// What crosses the boundaries of a host object: the recipients a job hands
// it, the answers it hands back, and the JSON of a relayed session. Types
// only, so the job, the host object and the Node prober can all import it.

import type { SessionEnd, SessionTarget } from "../verify/smtp-session";
import type { MxHost, SmtpResult } from "../verify/types";

/** One address of one job, queued at the host that serves its domain. */
export interface HostRecipient {
  job: string;
  /** The address's input position in its job: the key of its answer. */
  position: number;
  /** On the wire form (local@asciiDomain). */
  address: string;
  /** A-label domain, lower case. */
  domain: string;
  /** This host as the domain names it, reported as the answer's MX host. */
  mx: MxHost;
  /** The domain's next exchangers, in preference order, for when this host is down. */
  fallback: MxHost[];
  /** Only the domain's catch-all status is wanted (disposable domains): the address itself is never sent. */
  probeOnly: boolean;
  /** After this, "ask again later" becomes the final answer. */
  deadlineAt: number;
  /**
   * The job's run: it grows with every resume. A host told to drop a job
   * refuses recipients of that run or an older one, so an enqueue that
   * lands after the drop sends nothing.
   */
  epoch?: number;
}

/** A final SMTP answer for one input position of a job. */
export interface HostAnswer {
  position: number;
  smtp: SmtpResult;
}

/** The job's word back: stop means the job no longer wants answers (canceled, deleted, finished). */
export interface ReportAck {
  stop: boolean;
}

/** POST {PROBER_URL}/session, authenticated with `Authorization: Bearer <PROBER_SECRET>`: one session. */
export interface RelaySessionRequest {
  targets: SessionTarget[];
  /** In order; the prober sends them in transactions of at most `maxRcpts` in all. */
  recipients: string[];
  maxRcpts: number;
  /** Refused RCPTs the session may carry (the host's learned error limit); null or absent while unknown. */
  maxErrors?: number | null;
}

export interface RelaySessionResponse {
  answers: { address: string; status: SmtpResult["status"]; reply: NonNullable<SmtpResult["reply"]> }[];
  end: SessionEnd;
}

// ── Whole-domain probes: direct validation of a few addresses (POST {PROBER_URL}/probe) ──

/** One domain's addresses, probed in one go. */
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
