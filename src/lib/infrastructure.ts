// A failure of our own infrastructure (the prober, a host or job object, the
// DoH resolver, D1), as opposed to an answer from a mail server. It is never
// a verdict on an address: the address waits and is asked again, and only at
// its deadline is it answered, with a reason that names what failed.

export type Component = "prober" | "dns" | "mx_object" | "d1";

export class InfrastructureError extends Error {
  constructor(
    readonly component: Component,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "InfrastructureError";
  }
}

export function isInfrastructureError(err: unknown): err is InfrastructureError {
  return err instanceof InfrastructureError;
}

/** No prober could run the session: the chosen one failed, or every one is resting after a failure. */
export class ProberUnavailableError extends InfrastructureError {
  constructor(
    message: string,
    /** The prober that failed (the pool rests it, and the next try goes to another), or null when none was tried. */
    readonly prober: string | null,
  ) {
    super("prober", message);
    this.name = "ProberUnavailableError";
  }
}
