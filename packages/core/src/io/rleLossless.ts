/**
 * DICOM RLE Lossless (1.2.840.10008.1.2.5; PS3.5 Annex G) → native pixel bytes. A frame is a 64-byte header
 * (the number of segments, then up to 15 segment offsets) and PackBits-coded segments: one per byte of each
 * sample, most significant byte first, samples in order (R, G, B). The result is little-endian with samples
 * interleaved per pixel (Planar Configuration 0), the layout the native reader expects.
 */
import { DaftInputError } from "../errors.js";

export function decodeRleFrame(
  frame: Uint8Array,
  pixels: number,
  samples: number,
  bytesPerSample: number,
  source?: string,
): Uint8Array {
  const fail = (problem: string): never => {
    throw new DaftInputError(problem, source);
  };
  if (frame.length < 64) fail(`RLE frame of ${frame.length} bytes has no 64-byte header`);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const segments = view.getUint32(0, true);
  const expected = samples * bytesPerSample;
  if (segments !== expected) {
    fail(
      `RLE frame has ${segments} segments; ${samples} sample(s) of ${bytesPerSample} byte(s) need ${expected}`,
    );
  }
  const offsets = Array.from({ length: segments }, (_, i) => view.getUint32(4 + 4 * i, true));
  const out = new Uint8Array(pixels * expected);
  for (let s = 0; s < segments; s++) {
    const start = offsets[s]!;
    const stop = s + 1 < segments ? offsets[s + 1]! : frame.length;
    if (start < 64 || stop > frame.length || stop < start)
      fail(`RLE segment ${s + 1} has a bad offset ${start}`);
    const sample = Math.floor(s / bytesPerSample);
    const byte = bytesPerSample - 1 - (s % bytesPerSample); // MSB first in the file, little endian out
    const stride = expected;
    let at = sample * bytesPerSample + byte;
    let written = 0;
    let pos = start;
    const put = (value: number) => {
      if (written < pixels) out[at] = value;
      at += stride;
      written++;
    };
    while (pos < stop && written < pixels) {
      const n = (frame[pos++]! << 24) >> 24; // signed byte
      if (n >= 0) {
        if (pos + n + 1 > stop) fail(`RLE segment ${s + 1} is truncated`);
        for (let i = 0; i <= n; i++) put(frame[pos++]!);
      } else if (n !== -128) {
        if (pos >= stop) fail(`RLE segment ${s + 1} is truncated`);
        const value = frame[pos++]!;
        for (let i = 0; i < 1 - n; i++) put(value);
      }
    }
    if (written < pixels) fail(`RLE segment ${s + 1} decodes to ${written} bytes, ${pixels} expected`);
  }
  return out;
}
