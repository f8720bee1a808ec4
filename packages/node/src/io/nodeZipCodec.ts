import zlib from "node:zlib";
import { concatBytes, fflateZipCodec, type ZipCodec } from "@daft/core";

/** zlib.crc32 exists from Node 20.15 / 22.2; older Node 20 releases use the core's portable CRC. */
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/**
 * node:zlib's native raw DEFLATE, CRC-32 and gzip for .npz, .nii.gz, .nrrd and .mha files: on a 287×512×512
 * case, inflating the image, checking its CRC and deflating the label map take a fraction of the pure-JS codec's
 * time (bench/RESULTS.md).
 */
export const nodeZipCodec: ZipCodec = {
  name: "node:zlib",
  // One output chunk of the expected size: no growing and joining of 16 KiB chunks, and a corrupt entry cannot
  // inflate past its directory size.
  inflateRaw: (data, size) =>
    zlib.inflateRawSync(data, { chunkSize: Math.max(64, size), maxOutputLength: Math.max(1, size) }),
  // Every part but the last ends on a sync flush (a byte-aligned, non-final block), so the parts' streams joined
  // are one valid DEFLATE stream of the joined data, without joining the data.
  deflateRaw: (parts, level) =>
    concatBytes(
      parts.length === 0
        ? [zlib.deflateRawSync(new Uint8Array(0), { level })]
        : parts.map((part, i) =>
            zlib.deflateRawSync(part, {
              level,
              ...(i < parts.length - 1 ? { finishFlush: zlib.constants.Z_SYNC_FLUSH } : {}),
            }),
          ),
    ),
  // Empty parts are skipped: zlib.crc32 of a view on a zero-length buffer returns 0, not the CRC it was given.
  crc32: nativeCrc32
    ? (parts) => parts.reduce((crc, part) => (part.length > 0 ? nativeCrc32(part, crc) : crc), 0) >>> 0
    : fflateZipCodec.crc32,
  // The last member's ISIZE (its size mod 2^32) as the size of zlib's output chunks: the whole file in one chunk
  // when it has one member under 4 GiB, as it nearly always does, so no 16 KiB chunks are grown and joined. Only
  // a hint: zlib reads every member and grows as it must.
  gunzip(data) {
    const out = zlib.gunzipSync(data, { chunkSize: gzipSizeHint(data) });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  },
};

/** Output chunk size for gunzip: the trailer's ISIZE, within zlib's bounds (64 B … 1 GiB). */
function gzipSizeHint(data: Uint8Array): number {
  const n = data.length;
  const size =
    n >= 18 ? (data[n - 4]! | (data[n - 3]! << 8) | (data[n - 2]! << 16) | (data[n - 1]! << 24)) >>> 0 : 0;
  return Math.min(Math.max(size, 64 * 1024), 1 << 30);
}
