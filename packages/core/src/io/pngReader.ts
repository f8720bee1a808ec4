/**
 * The common PNG — 8- or 16-bit grey, grey + alpha, RGB or RGBA, not interlaced, no palette or transparency chunk —
 * decoded with its image data inflated through the installed codec (node:zlib in the CLI and server), the rows
 * unfiltered here. fast-png inflates with fflate: a 6000×4000 photo spent about a second there. Anything else, and
 * any file this reader does not take, goes to fast-png as before (`undefined` here), so what is refused and how it
 * is worded does not change.
 */
import { zlibInflate } from "./gzip.js";
import { PNG_SIGNATURE } from "./pngWriter.js";
import { concatBytes, zipCodec } from "./zipCodec.js";

export interface DecodedPng {
  width: number;
  height: number;
  depth: 8 | 16;
  channels: 1 | 2 | 3 | 4;
  /** C order (H, W, C); 16-bit samples in the machine's byte order. */
  data: Uint8Array | Uint16Array;
}

const CHANNELS: Record<number, 1 | 2 | 3 | 4> = { 0: 1, 2: 3, 4: 2, 6: 4 };

/** The decoded image, or undefined when the file is not the common kind or not well formed (see above). */
export function decodeCommonPng(bytes: Uint8Array): DecodedPng | undefined {
  try {
    return decode(bytes);
  } catch {
    return undefined;
  }
}

function decode(bytes: Uint8Array): DecodedPng | undefined {
  if (bytes.length < 8 || PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const codec = zipCodec();
  let header: { width: number; height: number; depth: 8 | 16; channels: 1 | 2 | 3 | 4 } | undefined;
  const idat: Uint8Array[] = [];
  let ended = false;
  for (let at = 8; at + 12 <= bytes.length && !ended;) {
    const length = view.getUint32(at);
    if (at + 12 + length > bytes.length) return undefined;
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    const data = bytes.subarray(at + 8, at + 8 + length);
    if (codec.crc32([bytes.subarray(at + 4, at + 8), data]) !== view.getUint32(at + 8 + length))
      return undefined;
    at += 12 + length;
    if (type === "IHDR") {
      if (length !== 13 || header) return undefined;
      const [depth, colour, compression, filter, interlace] = data.subarray(8);
      const channels = CHANNELS[colour!];
      if ((depth !== 8 && depth !== 16) || !channels || compression || filter || interlace) return undefined;
      const fields = new DataView(data.buffer, data.byteOffset, 13);
      const width = fields.getUint32(0);
      const height = fields.getUint32(4);
      if (width < 1 || height < 1) return undefined;
      header = { width, height, depth, channels };
    } else if (type === "IDAT") idat.push(data);
    else if (type === "IEND") ended = true;
    // A palette (also a suggested one), transparency, or an unknown critical chunk: fast-png's business.
    else if (type === "PLTE" || type === "tRNS" || (type.charCodeAt(0) & 0x20) === 0) return undefined;
  }
  if (!header || !ended || idat.length === 0) return undefined;
  const { width, height, depth, channels } = header;
  const bpp = (channels * depth) / 8; // bytes per pixel, the filters' distance
  const rowBytes = width * bpp;
  const expected = height * (1 + rowBytes);
  const joined = concatBytes(idat);
  const raw = zlibInflate(joined, expected);
  if (raw.length !== expected) return undefined;

  const out = new Uint8Array(height * rowBytes);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (1 + rowBytes)]!;
    const line = raw.subarray(y * (1 + rowBytes) + 1, (y + 1) * (1 + rowBytes));
    const row = y * rowBytes;
    const up = row - rowBytes; // the previous row, already unfiltered (none for the first)
    if (filter > 4) return undefined;
    for (let x = 0; x < rowBytes; x++) {
      const a = x >= bpp ? out[row + x - bpp]! : 0;
      const b = y > 0 ? out[up + x]! : 0;
      let v = line[x]!;
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >>> 1;
      else if (filter === 4) {
        const c = x >= bpp && y > 0 ? out[up + x - bpp]! : 0;
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      out[row + x] = v & 0xff;
    }
  }
  if (depth === 8) return { width, height, depth, channels, data: out };
  const samples = new Uint16Array(out.length / 2);
  for (let i = 0; i < samples.length; i++) samples[i] = (out[2 * i]! << 8) | out[2 * i + 1]!;
  return { width, height, depth, channels, data: samples };
}
