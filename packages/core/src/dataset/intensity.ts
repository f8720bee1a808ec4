/**
 * Intensity → uint8 for challenge cases: clip to the 0.5th and 99.5th percentiles of all values, scale
 * linearly to 0..255 and round half to even. numpy equivalent, all in float64:
 *   v = v.astype(np.float64); lo, hi = np.percentile(v, [0.5, 99.5])
 *   np.round((np.clip(v, lo, hi) - lo) / (hi - lo) * 255).astype(np.uint8)
 * (np.percentile's default linear interpolation; a constant input gives all zeros; NaN values are left out of
 * the percentiles and become 0).
 */

export type IntensityData =
  Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array;

export const LOW_PERCENTILE = 0.5;
export const HIGH_PERCENTILE = 99.5;

/** Percentiles (0..100) of `values` with numpy's default "linear" method; NaN values are ignored. */
export function percentiles(values: IntensityData, qs: number[]): number[] {
  if (
    values instanceof Uint8Array ||
    values instanceof Int8Array ||
    values instanceof Uint16Array ||
    values instanceof Int16Array
  ) {
    return percentilesByCounting(values, qs);
  }
  const sorted =
    values instanceof Float64Array || values instanceof Uint32Array || values instanceof Int32Array
      ? Float64Array.from(values)
      : Float32Array.from(values);
  sorted.sort(); // typed-array sort is numeric and puts NaN last
  let count = sorted.length;
  while (count > 0 && Number.isNaN(sorted[count - 1]!)) count--;
  return qs.map((q) => interpolate((rank) => sorted[rank]!, count, q));
}

/** Percentiles of small-integer data from a histogram: the same order statistics as sorting. */
function percentilesByCounting(
  values: Uint8Array | Int8Array | Uint16Array | Int16Array,
  qs: number[],
): number[] {
  const { offset, size: bins } = smallIntegerDomain(values)!;
  const histogram = new Float64Array(bins);
  for (let i = 0; i < values.length; i++) histogram[values[i]! + offset]!++;
  // valueAt(rank) walks the cumulative histogram; ranks are requested in increasing order per q.
  const valueAt = (rank: number): number => {
    let seen = 0;
    for (let bin = 0; bin < bins; bin++) {
      seen += histogram[bin]!;
      if (seen > rank) return bin - offset;
    }
    return bins - 1 - offset;
  };
  return qs.map((q) => interpolate(valueAt, values.length, q));
}

/** numpy's "linear" method, step by step as numpy 1.24+ computes it (virtual index, then _lerp). */
function interpolate(valueAt: (rank: number) => number, count: number, q: number): number {
  if (count === 0) return 0;
  const quantile = q / 100;
  const position = count * quantile + (1 + quantile * (1 - 1 - 1)) - 1;
  const below = Math.max(0, Math.min(Math.floor(position), count - 1));
  const above = Math.min(below + 1, count - 1);
  const low = valueAt(below);
  const high = above === below ? low : valueAt(above);
  const fraction = position - below;
  const difference = high - low;
  return fraction >= 0.5 ? high - difference * (1 - fraction) : low + difference * fraction;
}

/** Rounds to the nearest integer, ties to even (numpy's np.round / np.rint). */
export function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const difference = value - floor;
  if (difference > 0.5) return floor + 1;
  if (difference < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** Percentile-clipped linear scaling of any numeric data to uint8 (see the file comment). */
export function scaleToUint8(values: IntensityData): Uint8Array {
  const [low = 0, high = 0] = percentiles(values, [LOW_PERCENTILE, HIGH_PERCENTILE]);
  if (!(high > low)) return new Uint8Array(values.length); // constant volume (or only NaN): all zeros
  return scaleRangeToUint8(values, low, high);
}

/**
 * low..high → 0..255, linear: values outside the range are clipped, results rounded half to even, NaN becomes 0.
 * `width` divides (clipped − low); it is high − low unless the caller has its own (a CT window's width, which
 * high − low need not equal to the last bit).
 */
export function scaleRangeToUint8(
  values: IntensityData,
  low: number,
  high: number,
  width = high - low,
): Uint8Array {
  const out = new Uint8Array(values.length);
  const scaled = (value: number) => {
    const clipped = value < low ? low : value > high ? high : value;
    return roundHalfEven(((clipped - low) / width) * 255);
  };
  // 8- and 16-bit integers (a CT volume's int16: 78 M of them at 300×512×512) take at most 65,536 values: each
  // is scaled once into a table, by the same arithmetic, and the volume is looked up (0.1 of the time).
  const table = smallIntegerTable(values, scaled);
  if (table) {
    const { lut, offset } = table;
    for (let i = 0; i < values.length; i++) out[i] = lut[values[i]! + offset]!;
    return out;
  }
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    if (Number.isNaN(value)) continue;
    out[i] = scaled(value);
  }
  return out;
}

/**
 * The values an 8- or 16-bit integer array can hold, as indices v + offset in [0, size) (histograms, tables);
 * undefined for other arrays.
 */
function smallIntegerDomain(values: IntensityData): { offset: number; size: number } | undefined {
  if (values instanceof Uint8Array) return { offset: 0, size: 256 };
  if (values instanceof Int8Array) return { offset: 128, size: 256 };
  if (values instanceof Uint16Array) return { offset: 0, size: 65536 };
  if (values instanceof Int16Array) return { offset: 32768, size: 65536 };
  return undefined;
}

/** f(v) for every value an 8- or 16-bit integer array can hold, indexed by v + offset (undefined otherwise). */
function smallIntegerTable(
  values: IntensityData,
  f: (value: number) => number,
): { lut: Uint8Array; offset: number } | undefined {
  const domain = smallIntegerDomain(values);
  // A table for a small array would cost more than it saves.
  if (!domain || values.length < 4 * domain.size) return undefined;
  const { offset, size } = domain;
  const lut = new Uint8Array(size);
  for (let i = 0; i < size; i++) lut[i] = f(i - offset);
  return { lut, offset };
}
