// When to ask again. Greylisting servers (postgrey waits 300 s, others a few
// seconds) and throttling servers say "later" without saying when, so waits
// grow by half each time from a couple of seconds, never beyond a ceiling:
// a short delay is met within a second or two, a long one within the ceiling.

const FIRST_WAIT_MS = 2000;
const GROWTH = 1.5;

/** Wait before attempt `attempt + 1`, given `attempt` refusals so far (1-based). */
export function retryDelayMs(attempt: number, ceilingMs: number): number {
  const wait = FIRST_WAIT_MS * GROWTH ** Math.max(0, attempt - 1);
  return Math.max(1, Math.min(ceilingMs, Math.round(wait)));
}
