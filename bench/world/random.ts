// Distributions for the simulated world (its seeded generator is scripts/lib/random.ts).

/** Weights of a Zipf law over ranks 1..n: a few ranks hold a large share, then a long tail. */
export function zipfWeights(n: number, exponent: number): number[] {
  const raw = Array.from({ length: n }, (_, i) => 1 / (i + 1) ** exponent);
  const sum = raw.reduce((a, b) => a + b, 0);
  return raw.map((w) => w / sum);
}

/**
 * Splits `total` into integer parts proportional to `weights` (largest
 * remainder), so the parts add up to `total` exactly.
 */
export function apportion(total: number, weights: readonly number[]): number[] {
  const exact = weights.map((w) => w * total);
  const parts = exact.map(Math.floor);
  let left = total - parts.reduce((a, b) => a + b, 0);
  const byRemainder = exact.map((x, i) => ({ i, r: x - Math.floor(x) })).sort((a, b) => b.r - a.r);
  for (let k = 0; left > 0; k = (k + 1) % byRemainder.length, left--) {
    const i = byRemainder[k]!.i;
    parts[i] = (parts[i] ?? 0) + 1;
  }
  return parts;
}
