/**
 * Decodes the compressed slices of a DICOM series on a pool of Web Workers started by the segmentation worker, so a
 * JPEG 2000 or JPEG-LS series — about 100 and 40 ms of decoding per 512×512 slice on one core — decodes on up to 8
 * cores, as the Node CLI does on worker threads (packages/node/src/io/dicomDecodePool.ts), with the same policy:
 * fewer than 8 compressed slices, or too few for two workers (4 slices each), are decoded on this thread, where
 * starting workers costs more than it saves. A file a worker cannot decode comes back without values and is left to
 * the core, which reports it naming the file; a worker that fails (or cannot start) ends the pool and this thread
 * decodes the slices not yet answered. The workers are terminated once the series is decoded.
 */
import {
  answerDecodeRequest,
  readDicom,
  type DecodeReply,
  type DecodeRequest,
  type DicomFileBytes,
} from "@daft/core";

/** Fewer compressed slices than this are decoded on this thread. */
export const MIN_SLICES_FOR_WORKERS = 8;
/** Each worker gets at least this many compressed slices. */
const SLICES_PER_WORKER = 4;
const MAX_WORKERS = 8;

/** What the pool needs of a decoding worker; spawnBrowserDecodeWorker gives a Web Worker, tests give fakes. */
export interface DecodeWorker {
  /** Sends one file to decode (its bytes are copied: the core reads the file again). */
  decode(request: DecodeRequest): void;
  /** Called with each reply, and once if the worker fails (a script error, a message it could not read). */
  listen(onReply: (reply: DecodeReply) => void, onFailure: () => void): void;
  terminate(): void;
}

export type SpawnDecodeWorker = () => DecodeWorker;

/** The series' decoded compressed slices (by file index; undefined for the others) and how many workers decoded them. */
export interface DecodedSlices {
  values: (Float32Array | undefined)[];
  /** 0 when this thread decoded them all (a short series, one core, or a worker that failed). */
  workers: number;
}

/** The pool size for `compressed` slices on `threads` cores; 0: decode on this thread. */
export function decodeWorkerCount(compressed: number, threads: number): number {
  const workers = Math.min(threads, MAX_WORKERS, Math.floor(compressed / SLICES_PER_WORKER));
  return compressed < MIN_SLICES_FOR_WORKERS || workers < 2 ? 0 : workers;
}

/** This browser's cores, at most 8: the threads the pool may use. */
export function browserDecodeThreads(): number {
  return Math.min(navigator.hardwareConcurrency || 1, MAX_WORKERS);
}

/** A module worker running dicomDecodeWorker.ts (a nested dedicated worker when started from a worker). */
export function spawnBrowserDecodeWorker(): DecodeWorker {
  const worker = new Worker(new URL("./dicomDecodeWorker.ts", import.meta.url), { type: "module" });
  return {
    decode: (request) => worker.postMessage(request),
    listen(onReply, onFailure) {
      worker.onmessage = (event: MessageEvent<DecodeReply>) => onReply(event.data);
      worker.onerror = (event) => {
        event.preventDefault(); // handled: this thread decodes instead
        onFailure();
      };
      worker.onmessageerror = () => onFailure();
    },
    terminate: () => worker.terminate(),
  };
}

/** Decodes every compressed (encapsulated) slice of the series: on a pool of workers when it pays, else here. */
export async function decodeCompressedSlices(
  files: readonly DicomFileBytes[],
  threads: number,
  spawn: SpawnDecodeWorker,
): Promise<DecodedSlices> {
  const values: (Float32Array | undefined)[] = files.map(() => undefined);
  const compressed = compressedSlices(files);
  let workers = decodeWorkerCount(compressed.length, threads);
  const answered = workers > 0 ? await decodeOnPool(files, compressed, workers, spawn, values) : undefined;
  if (!answered?.complete) workers = 0;
  for (const id of compressed) {
    if (answered?.ids.has(id)) continue; // a worker decoded it, or left it to the core
    values[id] = answerDecodeRequest({ id, ...files[id]! }).values;
  }
  return { values, workers };
}

/** Indices of the files whose pixel data is encapsulated; unreadable files are left to the core. */
function compressedSlices(files: readonly DicomFileBytes[]): number[] {
  return files.flatMap(({ name, bytes }, i) => {
    try {
      return readDicom(bytes, name).pixelData?.encapsulated ? [i] : [];
    } catch {
      return [];
    }
  });
}

/**
 * Hands the slices out one at a time to `size` workers, storing each reply's values; resolves when all are
 * answered or a worker failed (`complete` false), with the ids answered so far. Terminates the workers.
 */
async function decodeOnPool(
  files: readonly DicomFileBytes[],
  slices: readonly number[],
  size: number,
  spawn: SpawnDecodeWorker,
  values: (Float32Array | undefined)[],
): Promise<{ ids: Set<number>; complete: boolean }> {
  const ids = new Set<number>();
  const queue = [...slices];
  const pool: DecodeWorker[] = [];
  let failed = false;
  try {
    await new Promise<void>((resolve) => {
      const fail = () => {
        failed = true;
        resolve();
      };
      const next = (worker: DecodeWorker) => {
        if (failed) return;
        const id = queue.shift();
        if (id !== undefined) return worker.decode({ id, name: files[id]!.name, bytes: files[id]!.bytes });
        if (ids.size === slices.length) resolve();
      };
      try {
        for (let i = 0; i < size; i++) {
          const worker = spawn();
          pool.push(worker);
          worker.listen((reply) => {
            ids.add(reply.id);
            if (reply.values) values[reply.id] = reply.values;
            next(worker);
          }, fail);
        }
      } catch {
        return fail(); // no workers here (a browser without nested workers): this thread decodes
      }
      for (const worker of pool) next(worker);
    });
  } finally {
    for (const worker of pool) worker.terminate();
  }
  return { ids, complete: !failed };
}
