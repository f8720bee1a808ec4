/**
 * Dice similarity coefficient: DSC = 2|A∩B| / (|A| + |B|).
 */

/** Dice from voxel counts; `bothEmpty` is returned when |A| + |B| = 0. */
export function diceFromCounts(countA: number, countB: number, intersection: number, bothEmpty = 1): number {
  const sum = countA + countB;
  return sum === 0 ? bothEmpty : (2 * intersection) / sum;
}

/**
 * Dice of two binary masks of equal length (non-zero = inside). Both empty gives `bothEmpty`
 * (1 by default: two empty masks agree; DeepMind's `compute_dice_coefficient` returns NaN there).
 */
export function dice(a: ArrayLike<number>, b: ArrayLike<number>, bothEmpty = 1): number {
  if (a.length !== b.length) throw new RangeError(`dice: masks differ in size (${a.length} vs ${b.length})`);
  let countA = 0;
  let countB = 0;
  let both = 0;
  for (let i = 0; i < a.length; i++) {
    const inA = a[i] !== 0;
    const inB = b[i] !== 0;
    if (inA) countA++;
    if (inB) countB++;
    if (inA && inB) both++;
  }
  return diceFromCounts(countA, countB, both, bothEmpty);
}
