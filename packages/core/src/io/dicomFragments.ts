/**
 * Encapsulated (compressed) DICOM pixel data → one compressed byte stream per frame (PS3.5 A.4): a Basic Offset
 * Table item, then fragments; a frame may span several fragments. Frames are found by the offset table when it
 * is filled in, as one fragment each when the counts agree, and as all fragments together for a single frame.
 */
import { DaftInputError } from "../errors.js";
import { dicomTagName } from "./dicomEncoder.js";

const ITEM = 0xfffee000;
const SEQUENCE_DELIMITER = 0xfffee0dd;
const UNDEFINED = 0xffffffff;

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
  const items = walkFragmentItems(bytes.subarray(0, offset + length), offset, fail).items;
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

/**
 * The items of encapsulated pixel data from `pos` (the Basic Offset Table first, then the fragments) up to the
 * Sequence Delimitation Item, and the position after it; what readDicom walks to find the element's end.
 */
export function walkFragmentItems(
  bytes: Uint8Array,
  pos: number,
  fail: (problem: string) => never,
): { items: { start: number; length: number }[]; after: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (at: number, n: number, what: string) => {
    if (at + n > bytes.length) {
      fail(
        `truncated: ${what} at byte ${at} needs ${n} bytes, only ${Math.max(0, bytes.length - at)} remain`,
      );
    }
  };
  const items: { start: number; length: number }[] = [];
  for (;;) {
    need(pos, 8, "encapsulated pixel data item");
    const tag = ((view.getUint16(pos, true) << 16) | view.getUint16(pos + 2, true)) >>> 0;
    const length = view.getUint32(pos + 4, true);
    if (tag === SEQUENCE_DELIMITER) return { items, after: pos + 8 };
    if (tag !== ITEM) {
      fail(`corrupt: expected a pixel data fragment (FFFE,E000) at byte ${pos}, found ${dicomTagName(tag)}`);
    }
    if (length === UNDEFINED) fail(`corrupt: pixel data fragment at byte ${pos} has undefined length`);
    need(pos + 8, length, "pixel data fragment");
    items.push({ start: pos + 8, length });
    pos += 8 + length;
  }
}
