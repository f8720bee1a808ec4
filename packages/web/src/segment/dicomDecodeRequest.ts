/**
 * What the series decoding pool (dicomDecodePool.ts) and its workers (dicomDecodeWorker.ts) say to each other, and
 * the decoding a worker does for one message — here, apart from the worker's global scope, so the pool's tests
 * decode exactly as the workers do.
 */
import { decodeDicomPixels, readDicom } from "@daft/core";

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
