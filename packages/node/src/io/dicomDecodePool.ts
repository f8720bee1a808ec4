/**
 * Decodes the compressed slices of a DICOM series on worker threads before the core assembles the volume, so a
 * JPEG 2000 or JPEG-LS series — about 100 and 40 ms of decoding per 512×512 slice on one core — decodes on every
 * core the run may use (--threads). The scheduling, its policy and its failure rules are the core's
 * (decodeCompressedSlices in packages/core/src/io/dicomDecodePool.ts); this module only starts worker_threads
 * behind its DecodeWorker and hands the values to the core (DicomFileBytes.decodedValues). Uncompressed series,
 * short series and single-threaded runs start no worker: the core decodes their slices as it assembles the volume.
 * A file no worker could decode is left to the core, so its error reads exactly as without workers; a worker that
 * fails, exits or cannot start ends the pool and the core decodes what is left; a worker that hangs on a
 * slice (60 s) fails the series with one line naming that file.
 */
import { existsSync } from "node:fs";
import { Worker } from "node:worker_threads";
import {
  decodeCompressedSlices,
  type DecodeReply,
  type DecodeWorker,
  type DicomFileBytes,
  type SpawnDecodeWorker,
} from "@daft/core";

export interface SeriesDecodeOptions {
  /** Starts one worker (default: a worker thread on dicomDecodeWorker.js); tests give others. */
  spawn?: SpawnDecodeWorker;
  /** How long a worker may take over one slice, in ms (the core's default: 60 s). */
  sliceDeadlineMs?: number;
}

/**
 * The files, with decodedValues for their compressed slices; `workers` = 0 when the main thread decoded them.
 * Rejects with a DaftInputError naming the file a worker hung on.
 */
export async function decodeSeriesInWorkers(
  files: DicomFileBytes[],
  threads: number,
  { spawn = spawnDecodeThread, sliceDeadlineMs }: SeriesDecodeOptions = {},
): Promise<{ files: DicomFileBytes[]; workers: number }> {
  const { values, workers } = await decodeCompressedSlices(files, {
    threads,
    spawn,
    unanswered: "leave", // the core's series assembly decodes them, as it does every file it has no values for
    ...(sliceDeadlineMs === undefined ? {} : { sliceDeadlineMs }),
  });
  return {
    files: files.map((file, i) => {
      const decoded = values[i];
      return decoded ? { ...file, decodedValues: decoded } : file;
    }),
    workers,
  };
}

/** A worker thread running dicomDecodeWorker.js; throws when the script is not there (the main thread decodes). */
export function spawnDecodeThread(): DecodeWorker {
  const script = workerScript();
  if (!script) throw new Error("dicomDecodeWorker.js not found beside the decoding pool");
  return decodeThread(script);
}

/**
 * A worker thread running `script` as a DecodeWorker. An 'error' (uncaught exception, a script that cannot load),
 * a 'messageerror' (a reply it could not deserialize) or an 'exit' it was not asked for (process.exit() inside it,
 * or killed) are failures; the pool ignores the 'exit' that its own terminate() causes.
 */
export function decodeThread(script: URL): DecodeWorker {
  const worker = new Worker(script);
  return {
    decode: (request) => worker.postMessage(request),
    listen(onReply, onFailure) {
      worker.on("message", (reply: DecodeReply) => onReply(reply));
      worker.on("error", () => onFailure());
      worker.on("messageerror", () => onFailure());
      worker.on("exit", () => onFailure());
    },
    terminate: () => worker.terminate(),
  };
}

/**
 * The worker's module: beside this one when it runs from the compiled modules (dist/io), or the bundle's second
 * entry (dist/bundle/dicomDecodeWorker.js) when this code sits in the bundle or one of its chunks.
 */
function workerScript(): URL | undefined {
  return [
    new URL("./dicomDecodeWorker.js", import.meta.url),
    new URL("../dicomDecodeWorker.js", import.meta.url),
  ].find((url) => existsSync(url));
}
