// A counting semaphore: at most `limit` callers inside `run` at once, the
// others wait in arrival order. In-memory, so it holds within one Durable
// Object instance or one Node process. No runtime imports: the prober uses it too.

export class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limit: number) {}

  get idle(): boolean {
    return this.active === 0 && this.waiting.length === 0;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active < this.limit) this.active++;
    // A releasing caller hands its slot straight over, so `active` stays counted.
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

/** One semaphore per key (an MX host), dropped again when idle. */
export class KeyedSemaphore {
  private readonly byKey = new Map<string, Semaphore>();

  constructor(private readonly limit: number) {}

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    let semaphore = this.byKey.get(key);
    if (!semaphore) {
      semaphore = new Semaphore(this.limit);
      this.byKey.set(key, semaphore);
    }
    try {
      return await semaphore.run(fn);
    } finally {
      if (semaphore.idle) this.byKey.delete(key);
    }
  }
}
