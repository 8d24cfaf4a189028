// Named points in a batch where tests (and the chaos run) can make it fail,
// to prove that every address still gets exactly one result. Production
// never arms it: JobObject.injectFault refuses unless ALLOW_FAULT_INJECTION.

export type FaultStage = "before_verify" | "after_verify" | "d1_write" | "mid_write" | "after_write";

export class FaultPlan {
  private readonly armed = new Map<FaultStage, number>();
  /** How many faults fired, so a test can prove its fault really happened. */
  tripped = 0;

  arm(stage: FaultStage, times: number): void {
    this.armed.set(stage, times);
  }

  pending(stage: FaultStage): boolean {
    return (this.armed.get(stage) ?? 0) > 0;
  }

  /** Throws once per armed count at this stage. */
  trip(stage: FaultStage): void {
    const left = this.armed.get(stage) ?? 0;
    if (left <= 0) return;
    this.armed.set(stage, left - 1);
    this.tripped++;
    throw new Error(`injected fault at ${stage}`);
  }
}
