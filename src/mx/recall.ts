// Telling every host that holds a job's addresses to drop them, fast. One
// invocation may hold 6 outgoing connections, so a job with thousands of
// hosts would call them 6 at a time. Instead each call carries a share of
// the remaining hosts, and the callee passes it on from its own invocation
// (with its own 6 connections): a tree, a few calls deep, every call short.

const FANOUT = 6;
/** A host that does not answer in time hears "stop" with its next report instead. */
const DROP_TIMEOUT_MS = 3000;

export async function dropAcross(env: Env, job: string, hosts: readonly string[]): Promise<void> {
  const groups = Array.from({ length: Math.min(FANOUT, hosts.length) }, (_, i) =>
    hosts.filter((_, j) => j % FANOUT === i),
  );
  await Promise.all(
    groups.map(async ([head, ...rest]) => {
      if (!head) return;
      try {
        const stub = env.MX.get(env.MX.idFromName(head));
        await Promise.race([stub.drop(job, rest), rejectAfter(DROP_TIMEOUT_MS)]);
      } catch (err) {
        console.error(
          JSON.stringify({ msg: "drop failed", job, host: head, hosts: rest.length + 1, error: String(err) }),
        );
      }
    }),
  );
}

function rejectAfter(ms: number): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms));
}
