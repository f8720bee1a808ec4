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
 * Policy: each request goes to the thread with the fewest requests outstanding (the main thread on a tie). No
 * worker starts for small jobs — a worker thread and its sessions cost a fresh process about 0.2 s, more than a
 * one-box picture takes — only once the main thread has served `startAfterRuns` model runs and a request finds
 * every thread busy. A worker that cannot start, fails or exits is dropped and its outstanding requests run on
 * the main thread; a model run that fails in a worker (onnxruntime's error) rejects that request, as on the main
 * thread. Results are the same wherever a request ran: the same optimized graph, one thread each.
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

export interface ParallelExpertOptions {
  /** Threads in all, the main thread included (1: the main thread alone, no workers ever). */
  threads: number;
  /** Model runs the main thread serves before workers may start (default 16: a one-box picture needs 8). */
  startAfterRuns?: number;
  /** Starts one worker thread's expert; resolves when its sessions are ready. */
  spawn: () => Promise<ExpertThread>;
  /** Told once if a worker could not start or died (for --explain); the run goes on without it. */
  onWorkerLost?: (reason: string) => void;
}

interface Lane {
  thread: ExpertThread;
  outstanding: number;
}

export class ParallelExpert implements Expert {
  readonly name: string;
  readonly inputSize: number;
  private readonly lanes: Lane[];
  private mainRuns = 0;
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

  private async dispatch<T>(request: (thread: ExpertThread) => Promise<T>): Promise<T> {
    this.maybeStartWorkers();
    let lane = this.lanes.reduce((best, l) => (l.outstanding < best.outstanding ? l : best));
    for (;;) {
      const current = lane;
      current.outstanding++;
      if (current === this.lanes[0]) this.mainRuns++;
      try {
        return await request(current.thread);
      } catch (e) {
        if (!(e instanceof ExpertThreadDied)) throw e;
        lane = this.lanes[0]!; // the worker died under this request: the main thread runs it
      } finally {
        current.outstanding--;
      }
    }
  }

  private maybeStartWorkers(): void {
    if (this.spawning || this.options.threads <= 1 || this.mainRuns < this.startAfterRuns) return;
    if (this.lanes.some((l) => l.outstanding === 0)) return; // a thread is idle: no demand for another yet
    this.spawning = true;
    for (let i = 1; i < this.options.threads; i++) {
      this.options.spawn().then(
        (thread) => {
          if (this.disposed) return void thread.dispose?.().catch(() => undefined);
          const lane: Lane = { thread, outstanding: 0 };
          thread.onDeath?.((reason) => {
            const at = this.lanes.indexOf(lane);
            if (at > 0) this.lanes.splice(at, 1);
            this.options.onWorkerLost?.(reason);
          });
          this.lanes.push(lane);
          this.workersStarted++;
        },
        (e: unknown) => this.options.onWorkerLost?.(e instanceof Error ? e.message : String(e)),
      );
    }
  }
}
