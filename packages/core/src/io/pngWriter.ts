/**
 * PNG writer for what DAFT writes as pictures — label maps (grey, 8- or 16-bit) and overlays (8-bit RGB) — with its
 * image data deflated through the installed codec (gzip.ts's zlib container): node:zlib in the CLI and server, fflate
 * in the browser. Rows are unfiltered (filter type 0): label maps are long runs that deflate well as they are. A
 * 6000×4000 label map took fast-png's encoder (fflate at level 6) about 0.45 s.
 */
import { LABEL_MAP_LEVEL, zlibDeflate } from "./gzip.js";
import { concatBytes, zipCodec, type DeflateLevel } from "./zipCodec.js";

export interface PngImage {
  width: number;
  height: number;
  /** C order (H, W[, 3]); 16-bit samples as a Uint16Array. */
  data: Uint8Array | Uint16Array;
  channels: 1 | 3;
}

/** The eight bytes every PNG file starts with. */
export const PNG_SIGNATURE = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The PNG file of `image`; its depth is the array's (16-bit for a Uint16Array, else 8). */
export function encodePngImage(image: PngImage, level: DeflateLevel = LABEL_MAP_LEVEL): Uint8Array {
  const { width, height, data, channels } = image;
  if (!(
    Number.isInteger(width) &&
    Number.isInteger(height) &&
    width >= 1 &&
    height >= 1 &&
    width < 2 ** 31 &&
    height < 2 ** 31
  ))
    throw new Error(`encodePngImage: bad size ${width}x${height}`);
  if (data.length !== width * height * channels)
    throw new Error(`encodePngImage: ${data.length} samples for ${width}x${height}x${channels}`);
  const depth = data instanceof Uint16Array ? 16 : 8;
  const rowBytes = (width * channels * depth) / 8;
  const stride = 1 + rowBytes; // each row: its filter type (0), then its samples (16-bit ones big-endian)
  const raw = new Uint8Array(height * stride);
  const samplesPerRow = width * channels;
  for (let y = 0; y < height; y++) {
    const from = y * samplesPerRow;
    if (depth === 8) raw.set((data as Uint8Array).subarray(from, from + samplesPerRow), y * stride + 1);
    else {
      let at = y * stride + 1;
      for (let i = from; i < from + samplesPerRow; i++) {
        const v = data[i]!;
        raw[at++] = v >>> 8;
        raw[at++] = v & 0xff;
      }
    }
  }
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header[8] = depth;
  header[9] = channels === 1 ? 0 : 2; // colour type: greyscale, truecolour
  // compression 0 (deflate), filter method 0, interlace 0: already zero
  return concatBytes([
    PNG_SIGNATURE,
    chunk("IHDR", header),
    chunk("IDAT", zlibDeflate(raw, level)),
    chunk("IEND", new Uint8Array(0)),
  ]);
}

/** length (big-endian), type, data, CRC-32 of type and data. */
function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  const typeBytes = Uint8Array.from(type, (c) => c.charCodeAt(0));
  out.set(typeBytes, 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, zipCodec().crc32([typeBytes, data]));
  return out;
}
