/**
 * The marker segments of a JPEG-family stream after its SOI (ITU-T T.81 B.1; lossless JPEG and JPEG-LS, T.87,
 * share the syntax): fill bytes (FF FF …) skipped, stray restart markers ignored, EOI — or the end of the data,
 * tolerated once the scans are read — ends the walk. `onSegment` gets each marker, its segment without the length
 * field, and the position after the segment; it returns where to go on (after a scan's entropy-coded data), or
 * nothing for right after the segment.
 */
export function walkJpegSegments(
  bytes: Uint8Array,
  fail: (problem: string) => never,
  onSegment: (marker: number, segment: Uint8Array, after: number) => number | void,
): void {
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) fail("no SOI marker: not a JPEG stream");
  let pos = 2;
  for (;;) {
    while (pos < bytes.length && bytes[pos] === 0xff && bytes[pos + 1] === 0xff) pos++;
    if (pos + 1 >= bytes.length) return;
    if (bytes[pos] !== 0xff) fail(`expected a marker at byte ${pos}`);
    const marker = bytes[pos + 1]!;
    pos += 2;
    if (marker === 0xd9) return; // EOI
    if (marker >= 0xd0 && marker <= 0xd7) continue; // a stray RST
    if (pos + 2 > bytes.length) fail(`marker FF${markerHex(marker)} has no length`);
    const length = (bytes[pos]! << 8) | bytes[pos + 1]!;
    if (length < 2 || pos + length > bytes.length)
      fail(`marker FF${markerHex(marker)} segment runs past the end`);
    const next = onSegment(marker, bytes.subarray(pos + 2, pos + length), pos + length);
    pos = typeof next === "number" ? next : pos + length;
  }
}

/** A marker's second byte as two hex digits ("D9"). */
export function markerHex(marker: number): string {
  return marker.toString(16).toUpperCase().padStart(2, "0");
}
