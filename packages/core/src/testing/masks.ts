/** For tests: a C-order 0/1 mask of `shape` (any number of axes) that is 1 inside the inclusive box lo..hi. */
export function boxMask(shape: number[], lo: number[], hi: number[]): Uint8Array {
  const strides = shape.map((_, a) => shape.slice(a + 1).reduce((x, y) => x * y, 1));
  return Uint8Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) =>
    strides.every((st, a) => {
      const c = Math.floor(i / st) % shape[a]!;
      return c >= lo[a]! && c <= hi[a]!;
    })
      ? 1
      : 0,
  );
}
