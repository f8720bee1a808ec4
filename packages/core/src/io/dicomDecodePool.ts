/**
 * Decodes the compressed slices of a DICOM series on a pool of workers before the core assembles the volume, so a
 * JPEG 2000 or JPEG-LS series — about 100 and 40 ms of decoding per 512×512 slice on one core — decodes on every
 * core the run may use. The scheduling lives here once; Node's worker threads
 * (packages/node/src/io/dicomDecodePool.ts) and the browser's Web Workers (packages/web/src/segment/dicomDecodePool.ts)
 * are thin adapters behind DecodeWorker, speaking dicomDecodeRequest.ts's messages. The rules, the same on both:
 * - fewer than 8 compressed slices, or too few for two workers (4 slices each), are decoded on the calling thread,
 *   where starting workers costs more than it saves;
 * - each worker gets one slice at a time; a file a worker cannot decode comes back without values and is left to
 *   the core, which reports it naming the file;
 * - a worker that fails (a script error, a message it could not read, an exit, or one that cannot start) ends the
 *   pool, and the calling thread decodes the slices not yet answered;
 * - a worker that has not answered its slice within the deadline (60 s by default) is hung — a decoder looping on a
 *   hostile file, or a worker that never started: the pool ends and the series fails with a one-line DaftInputError
 *   naming that file, as for any file of the series that cannot be decoded. Nothing more is decoded: that slice
 *   would hang the calling thread too, and the series is lost without it, so the other unanswered slices are not
 *   worth decoding either.
 * The workers are terminated, and no timer is left running, once the pool ends.
 */
import { DaftInputError } from "../errors.js";
import { readDicom } from "./dicom.js";
import { loadDicomPixelDecoder } from "./codecModules.js";
import type { DecodeReply, DecodeRequest } from "./dicomDecodeRequest.js";
import type { DicomFileBytes } from "./dicomSeries.js";

// Node and browsers both have these; the core's lib (ES2022, no host types) does not declare them.
declare function setTimeout(callback: () => void, ms: number): unknown;
declare function clearTimeout(timer: unknown): void;

/** Fewer compressed slices than this are decoded on the calling thread. */
export const MIN_SLICES_FOR_WORKERS = 8;
/** Each worker gets at least this many compressed slices… */
const SLICES_PER_WORKER = 4;
/** …and a pool has at least this many workers, and at most MAX_DECODE_WORKERS. */
const MIN_WORKERS = 2;
export const MAX_DECODE_WORKERS = 8;
/** How long a worker may take over one slice before it counts as hung. */
export const DEFAULT_SLICE_DEADLINE_MS = 60_000;

/** What the pool needs of a decoding worker: a worker thread, a Web Worker, or a test's fake. */
export interface DecodeWorker {
  /** Sends one file to decode. */
  decode(request: DecodeRequest): void;
  /**
   * Called with each reply, and if the worker fails (a script error, a message it could not read, an exit); the
   * pool ignores whatever comes once it has ended.
   */
  listen(onReply: (reply: DecodeReply) => void, onFailure: () => void): void;
  /** Ends the worker; the pool waits for a returned promise. */
  terminate(): void | Promise<unknown>;
}

/** Starts one worker; may throw (no workers in this environment), and the calling thread then decodes. */
export type SpawnDecodeWorker = () => DecodeWorker;

export interface DecodePoolOptions {
  /** The cores the pool may use: at most one worker each. */
  threads: number;
  spawn: SpawnDecodeWorker;
  /** How long a worker may take over one slice, in ms (DEFAULT_SLICE_DEADLINE_MS). */
  sliceDeadlineMs?: number;
  /**
   * What becomes of the slices no worker answered (a short series, one core, a failed pool): decoded on the
   * calling thread ("decode", the default: the browser keeps the values), or left undefined ("leave": the caller's
   * volume assembly decodes them anyway, and a single image's values would not be used).
   */
  unanswered?: "decode" | "leave";
}

/** What the pool gives for a series. */
export interface DecodedSlices {
  /** The compressed slices' values, by file index; undefined for the other files and those left to the core. */
  values: (Float32Array | undefined)[];
  /** 0 when the calling thread decoded them all (a short series, one core, or a worker that failed). */
  workers: number;
}

/** The pool size for `compressed` slices on `threads` cores; 0: decode on the calling thread. */
export function decodeWorkerCount(compressed: number, threads: number): number {
  const workers = Math.min(threads, MAX_DECODE_WORKERS, Math.floor(compressed / SLICES_PER_WORKER));
  return compressed < MIN_SLICES_FOR_WORKERS || workers < MIN_WORKERS ? 0 : workers;
}

/**
 * Decodes every compressed (encapsulated) slice of the series: on a pool of workers when it pays, else on the
 * calling thread. Rejects with a DaftInputError naming the file when a worker hangs on it.
 */
export async function decodeCompressedSlices(
  files: readonly DicomFileBytes[],
  options: DecodePoolOptions,
): Promise<DecodedSlices> {
  const values: (Float32Array | undefined)[] = files.map(() => undefined);
  const compressed = compressedSlices(files);
  const size = decodeWorkerCount(compressed.length, options.threads);
  const pool = size > 0 ? await decodeOnPool(files, compressed, size, options) : undefined;
  for (const id of compressed) {
    const reply = pool?.replies.get(id);
    if (reply)
      values[id] = reply.values; // a worker decoded it, or left it to the core
    else if (options.unanswered !== "leave") {
      const { answerDecodeRequest } = await loadDicomPixelDecoder();
      values[id] = answerDecodeRequest({ id, name: files[id]!.name, bytes: files[id]!.bytes }).values;
    }
  }
  return { values, workers: pool?.complete ? size : 0 };
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

/** The replies by slice, and whether every slice was answered (false: a worker failed). */
interface PoolOutcome {
  replies: Map<number, DecodeReply>;
  complete: boolean;
}

/**
 * Hands the slices out one at a time to `size` workers, each reply due within the deadline; resolves when all are
 * answered or a worker failed, rejects when one hung. Terminates the workers (and waits for them) either way.
 */
async function decodeOnPool(
  files: readonly DicomFileBytes[],
  slices: readonly number[],
  size: number,
  { spawn, sliceDeadlineMs = DEFAULT_SLICE_DEADLINE_MS }: DecodePoolOptions,
): Promise<PoolOutcome> {
  const replies = new Map<number, DecodeReply>();
  const queue = [...slices];
  const workers: DecodeWorker[] = [];
  try {
    return await new Promise<PoolOutcome>((resolve, reject) => {
      let ended = false;
      const timers = new Set<unknown>();
      const end = (settle: () => void) => {
        if (ended) return;
        ended = true;
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        settle();
      };
      const fail = () => end(() => resolve({ replies, complete: false }));
      const hung = (name: string) =>
        end(() =>
          reject(
            new DaftInputError(
              `decoding its compressed pixel data did not finish within ${sliceDeadlineMs / 1000} s`,
              name,
            ),
          ),
        );

      /** Wires one worker: it asks for its next slice after each reply, under a fresh deadline. */
      const start = (worker: DecodeWorker) => {
        let slice: number | undefined;
        let timer: unknown;
        const next = () => {
          if (ended) return;
          slice = queue.shift();
          if (slice === undefined) {
            if (replies.size === slices.length) end(() => resolve({ replies, complete: true }));
            return;
          }
          const { name, bytes } = files[slice]!;
          timer = setTimeout(() => hung(name), sliceDeadlineMs);
          timers.add(timer);
          try {
            worker.decode({ id: slice, name, bytes });
          } catch {
            fail(); // a message it cannot take
          }
        };
        worker.listen((reply) => {
          if (ended) return;
          if (reply.id !== slice) return fail(); // not what it was asked: no longer to be trusted
          clearTimeout(timer);
          timers.delete(timer);
          replies.set(reply.id, reply);
          next();
        }, fail);
        return next;
      };

      const starts: (() => void)[] = [];
      try {
        for (let i = 0; i < size; i++) {
          const worker = spawn();
          workers.push(worker);
          starts.push(start(worker));
        }
      } catch {
        return fail(); // no workers here (a browser without nested workers): the calling thread decodes
      }
      for (const next of starts) next();
    });
  } finally {
    await Promise.allSettled(workers.map(async (worker) => worker.terminate()));
  }
}
