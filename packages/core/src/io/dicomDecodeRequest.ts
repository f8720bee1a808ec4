/**
 * What the pool that decodes a DICOM series' compressed slices in parallel (dicomDecodePool.ts) says to its
 * workers, and the decoding a worker does for one message — shared by Node's worker threads
 * (packages/node/src/io/dicomDecodeWorker.ts) and the browser's Web Workers
 * (packages/web/src/segment/dicomDecodeWorker.ts), and kept apart from any worker scope so the pool's tests decode
 * exactly as the workers do, and the calling thread exactly as a worker when it decodes instead.
 */
import { readDicom } from "./dicom.js";
import { decodeDicomPixels } from "./dicomPixels.js";

/** One DICOM file to decode; `id` is its index in the series. */
export interface DecodeRequest {
  id: number;
  name: string;
  bytes: Uint8Array;
}

/** The file's rescaled values, or none when it cannot be decoded (the core then reports it, naming the file). */
export interface DecodeReply {
  id: number;
  values?: Float32Array;
}

/** Decodes the requested file with the core's decodeDicomPixels; a file it cannot decode answers without values. */
export function answerDecodeRequest({ id, name, bytes }: DecodeRequest): DecodeReply {
  try {
    return { id, values: decodeDicomPixels(readDicom(bytes, name), name).values };
  } catch {
    return { id };
  }
}
