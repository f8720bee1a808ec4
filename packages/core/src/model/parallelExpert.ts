/**
 * Runs an expert's models side by side on several threads: the calling thread's sessions plus worker threads with
 * sessions of their own, every session on one onnxruntime thread. The policy lives here; the platforms bring the
 * threads (packages/node: worker_threads; packages/web: Web Workers) through `spawn`, speaking the protocol of
 * expertThreadProtocol.ts.
 *
 * Why: the shipped models are small (0.16 GMAC encoder, a 1,600-node decoder graph), and onnxruntime's
 * intra-op threads do not speed them up on a laptop's few cores — on 2 cores a second intra-op thread made the
 * 287-slice MR bench case slower (git 2633694, whose --threads set the intra-op threads: 13.8 s with 2, 9.4 s with
 * 1; the pool's spinning threads take the core that inflates the file and paints the masks). What does use a
 * second core is a second model run: test-time mirroring asks for 4 independent encoder runs and 4 decoder runs
 * per slice, and two single-threaded sessions run two of them at once (that case: 8.1 s, bench/RESULTS.md).
 *
 * Policy: requests wait in one queue, oldest first, and each thread takes the next one when it is free — a worker
 * thread as soon as its last request is answered (it holds up to WORKER_DEPTH, so that it never waits for the main
 * thread to read its answer), the main thread only when it has nothing else to do (`runLater`: the platform's
 * next turn of the event loop). So the JavaScript the main thread runs between model calls — preprocessing the
 * next tile, painting the last one's masks — is work the workers' model runs overlap, and a request is not held
 * by a thread that is busy with something else. No worker starts for small jobs — a worker thread and its
 * sessions cost a fresh process about 0.2 s, more than a one-box picture takes — only once the main thread has
 * served `startAfterRuns` model runs and a request finds every thread busy. A worker that cannot start, fails or
 * exits is dropped and its outstanding requests go back into the queue in their places; a model run that fails in a
 * worker (onnxruntime's error) rejects that request, as on the main thread. Results are the same wherever a
 * request ran: the same optimized graph, one thread each.
 */
import type { DecodeResult, Embedding, Expert } from "./expert.js";

/**
 * Most model runs one case asks for at once: test-time mirroring's 4 passes. More threads than that would wait.
 */
export const MAX_MODEL_THREADS = 4;

/**
 * How `cores` are spent: `threads` sessions side by side (the calling thread's and worker threads'), each on
 * `intraOpThreads` onnxruntime threads. Side by side first — it is what speeds the small shipped models up —
 * up to MAX_MODEL_THREADS; cores beyond that go to each session's own threads.
 */
export function modelThreads(cores: number): { threads: number; intraOpThreads: number } {
  const threads = Math.max(1, Math.min(Math.floor(cores), MAX_MODEL_THREADS));
  return { threads, intraOpThreads: Math.max(1, Math.floor(cores / threads)) };
}

/** One thread's expert: the main thread's OrtExpert, or a worker thread behind messages. */
export interface ExpertThread {
  encode(image: Float32Array): Promise<Embedding>;
  decode(embedding: Embedding, boxes: Float32Array): Promise<DecodeResult>;
  /** Set on worker threads: called once when the thread dies (error, unexpected exit); its requests fail over. */
  onDeath?(listener: (reason: string) => void): void;
  dispose?(): Promise<void>;
}

/** Thrown by a worker thread's request when the thread itself died (not when its model run failed). */
export class ExpertThreadDied extends Error {}

/** Requests a worker thread holds at once: one running, one waiting in its mailbox. */
export const WORKER_DEPTH = 2;

export interface ParallelExpertOptions {
  /** Threads in all, the main thread included (1: the main thread alone, no workers ever). */
  threads: number;
  /** Model runs the main thread serves before workers may start (default 16: a one-box picture needs 8). */
  startAfterRuns?: number;
  /** Starts one worker thread's expert; resolves when its sessions are ready. */
  spawn: () => Promise<ExpertThread>;
  /** Told once if a worker could not start or died (for --explain); the run goes on without it. */
  onWorkerLost?: (reason: string) => void;
  /**
   * Runs `task` on the calling thread once what it is doing now is done (Node: setImmediate; a browser worker:
   * setTimeout 0). The main thread takes its next request there, so it never holds one while busy.
   */
  runLater: (task: () => void) => void;
}

interface Lane {
  thread: ExpertThread;
  outstanding: number;
}

interface Request {
  /** Arrival order: the queue is kept oldest first, also when a dead worker's requests come back. */
  seq: number;
  run: (thread: ExpertThread) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export class ParallelExpert implements Expert {
  readonly name: string;
  readonly inputSize: number;
  private readonly lanes: Lane[];
  private readonly queue: Request[] = [];
  private mainRuns = 0;
  private requests = 0;
  private mainScheduled = false;
  private spawning = false;
  private disposed = false;
  private readonly startAfterRuns: number;
  /** Worker threads that started (for --explain and tests). */
  workersStarted = 0;

  constructor(
    private readonly main: Expert,
    private readonly options: ParallelExpertOptions,
  ) {
    this.name = main.name;
    this.inputSize = main.inputSize;
    this.lanes = [{ thread: main, outstanding: 0 }];
    this.startAfterRuns = options.startAfterRuns ?? 16;
  }

  encode(image: Float32Array): Promise<Embedding> {
    return this.dispatch((t) => t.encode(image));
  }

  decode(embedding: Embedding, boxes: Float32Array): Promise<DecodeResult> {
    return this.dispatch((t) => t.decode(embedding, boxes));
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    const workers = this.lanes.splice(1);
    await Promise.all(workers.map((l) => l.thread.dispose?.().catch(() => undefined)));
    await this.main.dispose?.();
  }

  private dispatch<T>(run: (thread: ExpertThread) => Promise<T>): Promise<T> {
    this.maybeStartWorkers();
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ seq: this.requests++, run, resolve: resolve as (value: unknown) => void, reject });
      this.assign();
    });
  }

  /** Hands queued requests to free workers now, and to the main thread at its next free turn. */
  private assign(): void {
    for (const lane of this.lanes.slice(1)) {
      while (lane.outstanding < WORKER_DEPTH && this.queue.length > 0) this.start(lane, this.queue.shift()!);
    }
    if (this.queue.length === 0 || this.mainScheduled) return;
    this.mainScheduled = true;
    this.options.runLater(() => {
      this.mainScheduled = false;
      const main = this.lanes[0]!;
      // Busy with a request of its own: it takes the next when that one is answered (start → assign).
      if (main.outstanding === 0 && this.queue.length > 0) this.start(main, this.queue.shift()!);
    });
  }

  private start(lane: Lane, request: Request): void {
    lane.outstanding++;
    if (lane === this.lanes[0]) this.mainRuns++;
    request.run(lane.thread).then(
      (value) => {
        lane.outstanding--;
        request.resolve(value);
        this.assign();
      },
      (error: unknown) => {
        lane.outstanding--;
        // The worker died under this request: it takes no more, and the request goes back into the queue, in its
        // place, for another thread.
        if (error instanceof ExpertThreadDied) {
          this.drop(lane);
          const at = this.queue.findIndex((waiting) => waiting.seq > request.seq);
          this.queue.splice(at < 0 ? this.queue.length : at, 0, request);
        } else request.reject(error);
        this.assign();
      },
    );
  }

  /** A worker's lane, gone (once; never the main thread's). */
  private drop(lane: Lane): void {
    const at = this.lanes.indexOf(lane);
    if (at > 0) this.lanes.splice(at, 1);
  }

  private maybeStartWorkers(): void {
    if (this.spawning || this.options.threads <= 1 || this.mainRuns < this.startAfterRuns) return;
    // A thread is idle and nothing waits: no demand for another thread yet.
    if (this.queue.length === 0 && this.lanes.some((l) => l.outstanding === 0)) return;
    this.spawning = true;
    for (let i = 1; i < this.options.threads; i++) {
      this.options.spawn().then(
        (thread) => {
          if (this.disposed) return void thread.dispose?.().catch(() => undefined);
          const lane: Lane = { thread, outstanding: 0 };
          thread.onDeath?.((reason) => {
            this.drop(lane);
            this.options.onWorkerLost?.(reason);
          });
          this.lanes.push(lane);
          this.workersStarted++;
          this.assign();
        },
        (e: unknown) => this.options.onWorkerLost?.(e instanceof Error ? e.message : String(e)),
      );
    }
  }
}
