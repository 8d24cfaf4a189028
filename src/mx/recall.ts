// Telling every host that holds a job's addresses to drop them, fast. One
// invocation may hold 6 outgoing connections, so a job with thousands of
// hosts would call them 6 at a time. Instead each call carries a share of
// the remaining hosts, and the callee passes it on from its own invocation
// (with its own 6 connections): a tree, a few calls deep, every call short.

import type { HostAnswer } from "./protocol";
import { hostStub } from "./stub";

const FANOUT = 6;
/** A host that does not answer in time hears "stop" with its next report instead. */
const DROP_TIMEOUT_MS = 3000;

export interface DropOptions {
  /** The job's run that ends: recipients of it (or older) that arrive later are refused. */
  epoch: number;
  /**
   * A pause: answers the hosts already have come back with the drop, and
   * RCPTs on the wire still count, so no answered address is asked again.
   */
  keepAnswers: boolean;
}

/** Tells the hosts to drop the job; returns the answers they hand back (pauses only). */
export async function dropAcross(
  env: Env,
  job: string,
  hosts: readonly string[],
  opts: DropOptions = { epoch: Number.MAX_SAFE_INTEGER, keepAnswers: false },
): Promise<HostAnswer[]> {
  const groups = Array.from({ length: Math.min(FANOUT, hosts.length) }, (_, i) =>
    hosts.filter((_, j) => j % FANOUT === i),
  );
  const answers: HostAnswer[] = [];
  await Promise.all(
    groups.map(async ([head, ...rest]) => {
      if (!head) return;
      try {
        const stub = hostStub(env, head);
        const done = await Promise.race([stub.drop(job, rest, opts), rejectAfter(DROP_TIMEOUT_MS)]);
        answers.push(...(done.answers ?? []));
      } catch (err) {
        console.error(
          JSON.stringify({ msg: "drop failed", job, host: head, hosts: rest.length + 1, error: String(err) }),
        );
      }
    }),
  );
  return answers;
}

function rejectAfter(ms: number): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms));
}
