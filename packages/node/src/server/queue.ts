/**
 * Inference runs one request at a time, first come first served: onnxruntime already uses every core for one
 * case, so two at once would only slow both down and double the memory. A bounded number may wait; past that
 * the server answers 503 with a Retry-After estimated from recent run times.
 */
import { HttpError } from "./responses.js";

export class InferenceQueue {
  private busy = false;
  private readonly waiters: { start: () => void; abort: () => void }[] = [];
  /** Moving average of recent run times (ms), for Retry-After. */
  private averageMs = 1000;

  constructor(
    /** Requests that may wait behind the running one. */
    readonly maxWaiting: number,
  ) {}

  /** Requests waiting (not counting the one running). */
  get waiting(): number {
    return this.waiters.length;
  }

  get running(): boolean {
    return this.busy;
  }

  /**
   * Runs `task` when every earlier one has finished. Throws a 503 HttpError at once when `maxWaiting` are already
   * waiting, and a 499-style HttpError when `signal` aborts (the client left) before the task started.
   */
  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.busy) {
      if (this.waiters.length >= this.maxWaiting) {
        throw new HttpError(
          503,
          `server busy: ${this.waiters.length} inference requests are already waiting; retry later`,
          { "Retry-After": String(this.retryAfterSeconds()) },
        );
      }
      await new Promise<void>((resolve, reject) => {
        const waiter = {
          start: () => {
            signal?.removeEventListener("abort", waiter.abort);
            resolve();
          },
          abort: () => {
            const at = this.waiters.indexOf(waiter);
            if (at >= 0) this.waiters.splice(at, 1);
            reject(new HttpError(499, "request: the client closed the connection while waiting"));
          },
        };
        if (signal?.aborted) return waiter.abort();
        signal?.addEventListener("abort", waiter.abort, { once: true });
        this.waiters.push(waiter);
      });
    }
    this.busy = true;
    const started = performance.now();
    try {
      return await task();
    } finally {
      this.averageMs = 0.7 * this.averageMs + 0.3 * (performance.now() - started);
      const next = this.waiters.shift();
      if (next) next.start();
      else this.busy = false;
    }
  }

  /** Seconds until a new request could start: the queue ahead of it times the recent average run. */
  retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(((this.waiters.length + 1) * this.averageMs) / 1000));
  }
}
