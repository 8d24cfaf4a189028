// Named points in a batch where tests (and the chaos run) can make it fail,
// to prove that every address still gets exactly one result. Production
// never arms it: JobObject.injectFault refuses unless ALLOW_FAULT_INJECTION.
// Most stages throw; "d1_hang" holds the next results write for a while (a
// D1 that hangs), "resolver_offline" takes the DoH resolver away, and
// "account_call" fails the alarm's calls to the account object, "host_call"
// its hand-outs to host objects.

export type FaultStage =
  | "before_verify"
  | "after_verify"
  | "d1_write"
  | "mid_write"
  | "after_write"
  | "d1_hang"
  | "resolver_offline"
  | "account_call"
  | "host_call";

export class FaultPlan {
  private readonly armed = new Map<FaultStage, { times: number; holdMs: number }>();
  /** How many faults fired, so a test can prove its fault really happened. */
  tripped = 0;

  arm(stage: FaultStage, times: number, holdMs = 0): void {
    this.armed.set(stage, { times, holdMs });
  }

  pending(stage: FaultStage): boolean {
    return (this.armed.get(stage)?.times ?? 0) > 0;
  }

  /** Throws once per armed count at this stage. */
  trip(stage: FaultStage): void {
    if (!this.take(stage)) return;
    throw new Error(`injected fault at ${stage}`);
  }

  /** Waits the armed time, once per armed count at this stage. */
  async hold(stage: FaultStage): Promise<void> {
    const armed = this.take(stage);
    if (armed) await new Promise((resolve) => setTimeout(resolve, armed.holdMs));
  }

  private take(stage: FaultStage): { holdMs: number } | null {
    const armed = this.armed.get(stage);
    if (!armed || armed.times <= 0) return null;
    armed.times--;
    this.tripped++;
    return armed;
  }
}
