/**
 * Decodes the compressed slices of a DICOM series on a pool of Web Workers started by the segmentation worker, so a
 * JPEG 2000 or JPEG-LS series — about 100 and 40 ms of decoding per 512×512 slice on one core — decodes on up to 8
 * cores, as the Node CLI does on worker threads. The scheduling, its policy (no workers for fewer than 8 compressed
 * slices or too few for two workers) and its failure rules are the core's (decodeCompressedSlices in
 * packages/core/src/io/dicomDecodePool.ts); this module only starts Web Workers behind its DecodeWorker. A file a
 * worker cannot decode is left to the core, which reports it naming the file; a worker that fails (or cannot start:
 * a browser without nested workers) ends the pool and the segmentation worker decodes what is left; a worker that
 * hangs on a slice (60 s) fails the series with one line naming that file, which reaches the page as any other
 * decoding error (segmentWorker.ts).
 */
import {
  decodeCompressedSlices,
  MAX_DECODE_WORKERS,
  type DecodedSlices,
  type DecodeReply,
  type DecodeWorker,
  type DicomFileBytes,
} from "@daft/core";

/** Decodes a series' compressed slices on this browser's cores, on Web Workers running dicomDecodeWorker.ts. */
export function decodeSeriesOnWebWorkers(files: readonly DicomFileBytes[]): Promise<DecodedSlices> {
  return decodeCompressedSlices(files, { threads: browserDecodeThreads(), spawn: spawnBrowserDecodeWorker });
}

/** This browser's cores, at most 8: the threads the pool may use. */
export function browserDecodeThreads(): number {
  return Math.min(navigator.hardwareConcurrency || 1, MAX_DECODE_WORKERS);
}

/** A module worker running dicomDecodeWorker.ts (a nested dedicated worker when started from a worker). */
export function spawnBrowserDecodeWorker(): DecodeWorker {
  const worker = new Worker(new URL("./dicomDecodeWorker.ts", import.meta.url), { type: "module" });
  return {
    decode: (request) => worker.postMessage(request), // the bytes are copied: the core reads the file again
    listen(onReply, onFailure) {
      worker.onmessage = (event: MessageEvent<DecodeReply>) => onReply(event.data);
      worker.onerror = (event) => {
        event.preventDefault(); // handled: the pool decodes on this thread instead
        onFailure();
      };
      worker.onmessageerror = () => onFailure();
    },
    terminate: () => worker.terminate(),
  };
}
