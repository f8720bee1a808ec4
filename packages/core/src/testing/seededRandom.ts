/**
 * For tests: a seeded pseudo-random generator (a 32-bit linear congruential one, numbers in [0, 1)), so fuzz and
 * synthetic-data tests draw the same sequence on every run and machine.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
}
