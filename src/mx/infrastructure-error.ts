// A failure of our own infrastructure (the prober, a call between objects),
// as opposed to anything a mail server said. Never a verdict: the scheduler
// puts the recipients back and tries again later.

export class InfrastructureError extends Error {
  override name = "InfrastructureError";
}

/** No prober could run the session: the chosen one failed, or every one is resting after a failure. */
export class ProberUnavailableError extends InfrastructureError {
  override name = "ProberUnavailableError";
  constructor(
    message: string,
    /** The prober that failed, or null when none was tried. */
    readonly prober: string | null,
  ) {
    super(message);
  }
}
