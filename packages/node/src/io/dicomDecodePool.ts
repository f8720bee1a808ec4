/**
 * Decodes the compressed slices of a DICOM series on worker threads before the core assembles the volume, so a
 * JPEG 2000 or JPEG-LS series — about 100 and 40 ms of decoding per 512×512 slice on one core — decodes on every
 * core the run may use (--threads). Uncompressed series, short series and single-threaded runs skip it: starting a
 * worker costs more than it saves there. The core takes each file's values as decoded (DicomFileBytes.decodedValues)
 * and decodes any file a worker could not, so errors read exactly as without workers.
 */
import { existsSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { readDicom, type DecodeReply, type DecodeRequest, type DicomFileBytes } from "@daft/core";

/** Fewer compressed slices than this are decoded on the main thread. */
export const MIN_SLICES_FOR_WORKERS = 8;

/** The files, with decodedValues for those the workers decoded; `workers` = 0 when none were started. */
export async function decodeSeriesInWorkers(
  files: DicomFileBytes[],
  threads: number,
): Promise<{ files: DicomFileBytes[]; workers: number }> {
  const compressed = files.filter(({ name, bytes }) => {
    try {
      return readDicom(bytes, name).pixelData?.encapsulated === true;
    } catch {
      return false; // the core reports it
    }
  });
  const workers = Math.min(threads, 8, Math.floor(compressed.length / 4));
  const script = workerScript();
  if (compressed.length < MIN_SLICES_FOR_WORKERS || workers < 2 || !script) return { files, workers: 0 };

  const decoded = new Map<number, Float32Array>();
  const queue = compressed.map((file) => files.indexOf(file));
  const pool = Array.from({ length: workers }, () => new Worker(script));
  try {
    await Promise.all(
      pool.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const next = () => {
              const id = queue.shift();
              if (id === undefined) return resolve();
              const { name, bytes } = files[id]!;
              worker.postMessage({ id, name, bytes } satisfies DecodeRequest);
            };
            worker.on("message", ({ id, values }: DecodeReply) => {
              if (values) decoded.set(id, values);
              next();
            });
            worker.on("error", reject);
            next();
          }),
      ),
    );
  } catch {
    return { files, workers: 0 }; // a worker that died: the main thread decodes everything, as without workers
  } finally {
    await Promise.all(pool.map((worker) => worker.terminate()));
  }
  return {
    files: files.map((file, i) => {
      const values = decoded.get(i);
      return values ? { ...file, decodedValues: values } : file;
    }),
    workers,
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
