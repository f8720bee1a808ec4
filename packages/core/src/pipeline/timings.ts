/** Milliseconds spent in each stage of one case. */
export interface StageTimings {
  decodeInputMs: number;
  preprocessMs: number;
  encodeMs: number;
  decodeMs: number;
  postprocessMs: number;
  encodeOutputMs: number;
}

export function emptyTimings(): StageTimings {
  return { decodeInputMs: 0, preprocessMs: 0, encodeMs: 0, decodeMs: 0, postprocessMs: 0, encodeOutputMs: 0 };
}

/** A monotonic clock in milliseconds; adapters pass `performance.now`. */
export type Clock = () => number;
