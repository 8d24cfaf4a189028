// Which prober serves a mail host. Each host sticks to one prober (rendezvous
// hashing of its key over the probers' URLs), so the host sees one client IP
// and its politeness caps hold. A prober that fails is rested for a window:
// the hosts it served move to their next prober in rank, and come back once
// the window has passed. Pure and in memory: each host object keeps its own.

export interface ProberState {
  url: string;
  up: boolean;
  /** While down: when it is tried again (epoch ms). */
  downUntil: number | null;
  lastError: string | null;
  lastErrorAt: number | null;
  lastOkAt: number | null;
}

export interface ProberPoolOptions {
  /** How long a failed prober rests before it is tried again. */
  downMs: number;
  now?: () => number;
}

/** PROBER_URLS (comma-separated) or else PROBER_URL; without trailing slashes, each once. */
export function proberUrls(env: { PROBER_URLS?: string; PROBER_URL?: string }): string[] {
  const raw = env.PROBER_URLS?.trim() ? env.PROBER_URLS : (env.PROBER_URL ?? "");
  const urls = raw
    .split(",")
    .map((u) => u.trim().replace(/\/+$/, ""))
    .filter(Boolean);
  return [...new Set(urls)];
}

export class ProberPool {
  private readonly states: ProberState[];
  private readonly now: () => number;

  constructor(
    urls: readonly string[],
    private readonly opts: ProberPoolOptions,
  ) {
    this.states = urls.map((url) => ({
      url,
      up: true,
      downUntil: null,
      lastError: null,
      lastErrorAt: null,
      lastOkAt: null,
    }));
    this.now = opts.now ?? Date.now;
  }

  /** A pool as another pool saw it (a host object's, reported over RPC). */
  static from(states: readonly ProberState[], opts: ProberPoolOptions): ProberPool {
    const pool = new ProberPool(
      states.map((s) => s.url),
      opts,
    );
    for (const [i, s] of states.entries()) Object.assign(pool.states[i]!, s);
    return pool;
  }

  get size(): number {
    return this.states.length;
  }

  /** Every prober, best first for this key: the same order for the same key and URLs, anywhere. */
  rank(key: string): string[] {
    return this.states
      .map((s) => ({ url: s.url, score: rendezvousScore(s.url, key) }))
      .sort((a, b) => b.score - a.score || (a.url < b.url ? -1 : 1))
      .map((s) => s.url);
  }

  /** The prober for this key: the best-ranked one not resting; null when every one is. */
  pick(key: string): string | null {
    const now = this.now();
    for (const url of this.rank(key)) {
      const state = this.state(url);
      if (state.downUntil === null || now >= state.downUntil) return url;
    }
    return null;
  }

  /** The prober failed (connection error, 5xx, timeout): rest it for the window. */
  markDown(url: string, error: string): void {
    const state = this.state(url);
    const now = this.now();
    state.up = false;
    state.downUntil = now + this.opts.downMs;
    state.lastError = error;
    state.lastErrorAt = now;
  }

  /** The prober answered: it is up again. */
  markUp(url: string): void {
    const state = this.state(url);
    state.up = true;
    state.downUntil = null;
    state.lastOkAt = this.now();
  }

  /** When the first resting prober may be tried again, or null when one is available now. */
  nextTryAt(): number | null {
    const now = this.now();
    const waits = this.states.map((s) => (s.downUntil === null || now >= s.downUntil ? now : s.downUntil));
    const first = Math.min(...waits);
    return first <= now ? null : first;
  }

  view(): ProberState[] {
    return this.states.map((s) => ({ ...s }));
  }

  private state(url: string): ProberState {
    const state = this.states.find((s) => s.url === url);
    if (!state) throw new Error(`unknown prober ${url}`);
    return state;
  }
}

/** Highest-random-weight score of a (prober, key) pair: FNV-1a, then a 32-bit avalanche. */
function rendezvousScore(url: string, key: string): number {
  let h = 0x811c9dc5;
  const text = `${url}\n${key}`;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // murmur3's finalizer: FNV alone leaves similar URLs with similar scores.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
