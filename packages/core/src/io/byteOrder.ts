/**
 * Byte order and number text shared by the raw-voxel formats (NIfTI, NRRD, MetaImage): their readers swap stored
 * words into the platform's order, their writers store little-endian and print header numbers exactly.
 */

export const PLATFORM_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Reverses every `width`-byte word of `bytes` in place (one byte order ↔ the other). */
export function swapWordsInPlace(bytes: Uint8Array, width: number): void {
  if (width <= 1) return;
  for (let at = 0; at < bytes.length; at += width) bytes.subarray(at, at + width).reverse();
}

/** Stored words in `littleEndian` order → the platform's order, in place. */
export function toPlatformOrder(bytes: Uint8Array, width: number, littleEndian: boolean): void {
  if (littleEndian !== PLATFORM_LITTLE_ENDIAN) swapWordsInPlace(bytes, width);
}

/** The bytes of a typed array in little-endian order: a view on a little-endian platform, else a swapped copy. */
export function littleEndianBytes(data: {
  buffer: ArrayBufferLike;
  byteOffset: number;
  byteLength: number;
  BYTES_PER_ELEMENT: number;
}): Uint8Array {
  const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (PLATFORM_LITTLE_ENDIAN || data.BYTES_PER_ELEMENT === 1) return view;
  const copy = view.slice();
  swapWordsInPlace(copy, data.BYTES_PER_ELEMENT);
  return copy;
}

/** A number as header text: the shortest decimal that reads back as the same double. `writer` names the caller. */
export function headerNumber(value: number, writer: string): string {
  if (!Number.isFinite(value)) throw new Error(`${writer}: ${value} is not a finite number`);
  return Object.is(value, -0) ? "0" : String(value);
}
