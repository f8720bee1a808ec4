/**
 * Encapsulated (compressed) DICOM pixel data → one compressed byte stream per frame (PS3.5 A.4): a Basic Offset
 * Table item, then fragments; a frame may span several fragments. Frames are found by the offset table when it
 * is filled in, as one fragment each when the counts agree, and as all fragments together for a single frame.
 */
import { DaftInputError } from "../errors.js";

const ITEM = 0xfffee000;
const SEQUENCE_DELIMITER = 0xfffee0dd;

/** `bytes[offset … offset + length)` is the value of an undefined-length Pixel Data element (little endian). */
export function encapsulatedFrames(
  bytes: Uint8Array,
  offset: number,
  length: number,
  frames: number,
  source?: string,
): Uint8Array[] {
  const fail = (problem: string): never => {
    throw new DaftInputError(problem, source);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = offset + length;
  const items: { start: number; length: number }[] = [];
  let pos = offset;
  while (pos + 8 <= end) {
    const tag = ((view.getUint16(pos, true) << 16) | view.getUint16(pos + 2, true)) >>> 0;
    const itemLength = view.getUint32(pos + 4, true);
    if (tag === SEQUENCE_DELIMITER) break;
    if (tag !== ITEM) fail(`corrupt encapsulated pixel data: no item tag at byte ${pos}`);
    if (pos + 8 + itemLength > end)
      fail(`truncated encapsulated pixel data: a fragment runs past byte ${end}`);
    items.push({ start: pos + 8, length: itemLength });
    pos += 8 + itemLength;
  }
  const [table, ...fragments] = items;
  if (!table || fragments.length === 0) fail("encapsulated pixel data holds no fragment");
  const slice = (f: { start: number; length: number }) => bytes.subarray(f.start, f.start + f.length);
  const concat = (parts: { start: number; length: number }[]) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(slice(p), at);
      at += p.length;
    }
    return out;
  };
  if (frames === 1) return [fragments.length === 1 ? slice(fragments[0]!) : concat(fragments)];
  if (table!.length >= 4 * frames) {
    // Offsets count from the first byte of the first fragment's item tag.
    const first = fragments[0]!.start - 8;
    const starts = Array.from(
      { length: frames },
      (_, i) => view.getUint32(table!.start + 4 * i, true) + first,
    );
    return starts.map((start, i) => {
      const stop = starts[i + 1] ?? Infinity;
      return concat(fragments.filter((f) => f.start - 8 >= start && f.start - 8 < stop));
    });
  }
  if (fragments.length === frames) return fragments.map(slice);
  return fail(
    `${fragments.length} pixel data fragments for ${frames} frames and no Basic Offset Table: cannot tell the frames apart`,
  );
}
