// A circuit breaker for the DoH resolver. When the resolver cannot be reached
// (no network, an outage), every lookup would wait for its own timeout and
// fail alike: after a few such failures in a row the breaker opens, and
// lookups fail at once as "unavailable" until a single trial lookup gets
// through again. The outage is logged once when it starts and once when it ends.

/** Failures in a row that open the breaker. */
const OPEN_AFTER = 3;
/** While open, one trial lookup is let through this often. */
const TRIAL_EVERY_MS = 5000;

export class ResolverBreaker {
  private failuresInRow = 0;
  private openSince: number | null = null;
  private nextTrialAt = 0;

  constructor(
    private readonly log: (line: string) => void = (line) => console.error(line),
    private readonly clock: () => number = Date.now,
  ) {}

  /** Whether a lookup may go to the resolver now (always while closed; one trial at a time while open). */
  allows(): boolean {
    if (this.openSince === null) return true;
    const now = this.clock();
    if (now < this.nextTrialAt) return false;
    this.nextTrialAt = now + TRIAL_EVERY_MS;
    return true;
  }

  get open(): boolean {
    return this.openSince !== null;
  }

  reached(): void {
    this.failuresInRow = 0;
    if (this.openSince === null) return;
    const downMs = this.clock() - this.openSince;
    this.openSince = null;
    this.log(JSON.stringify({ msg: "DoH resolver reachable again", downMs }));
  }

  unreachable(error: string): void {
    this.failuresInRow++;
    if (this.openSince !== null || this.failuresInRow < OPEN_AFTER) return;
    this.openSince = this.clock();
    this.nextTrialAt = this.openSince + TRIAL_EVERY_MS;
    this.log(JSON.stringify({ msg: "DoH resolver unreachable: lookups fail fast until it answers", error }));
  }
}
