import type { DecodeResult, Embedding, Expert } from "./expert.js";
import { describe, expect, it } from "vitest";
import {
  ExpertThreadDied,
  modelThreads,
  ParallelExpert,
  WORKER_DEPTH,
  type ExpertThread,
} from "./parallelExpert.js";

/** A thread whose every request waits for `release()`; records what ran on it. */
class HeldThread implements ExpertThread, Expert {
  readonly name = "held";
  readonly inputSize = 2;
  readonly ran: string[] = [];
  private readonly held: ((dead?: ExpertThreadDied) => void)[] = [];
  private deathListener: ((reason: string) => void) | undefined;
  disposed = false;
  constructor(
    readonly id: string,
    private readonly failWith?: Error,
  ) {}
  encode(image: Float32Array): Promise<Embedding> {
    return this.hold(`encode ${image[0]}`, () => ({ data: Float32Array.of(image[0]!), dims: [1] }));
  }
  decode(embedding: Embedding): Promise<DecodeResult> {
    return this.hold(`decode ${embedding.data[0]}`, () => ({
      logits: Float32Array.of(embedding.data[0]!),
      iou: Float32Array.of(1),
      count: 1,
    }));
  }
  release(): void {
    for (const go of this.held.splice(0)) go();
  }
  /** As a worker thread that exits: its outstanding requests reject as dead, then its death is told. */
  die(): void {
    for (const fail of this.held.splice(0))
      fail(new ExpertThreadDied("expert worker thread: exited (code 1)"));
    this.deathListener?.("exited (code 1)");
  }
  onDeath(listener: (reason: string) => void): void {
    this.deathListener = listener;
  }
  async dispose(): Promise<void> {
    this.disposed = true;
  }
  get waiting(): number {
    return this.held.length;
  }
  private hold<T>(what: string, value: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.ran.push(what);
      this.held.push((dead) => {
        const failure = dead ?? this.failWith;
        if (failure) reject(failure);
        else resolve(value());
      });
    });
  }
}

const image = (v: number) => Float32Array.of(v);
/** One turn of the event loop: the main thread's queued request (runLater) is taken on it. */
const turn = () => new Promise((r) => setImmediate(r));
const runLater = (task: () => void) => void setImmediate(task);

/** Lets the main thread serve `runs` requests one by one (below the start threshold, nothing concurrent). */
async function warmUp(expert: ParallelExpert, main: HeldThread, runs: number) {
  for (let i = 0; i < runs; i++) {
    const r = expert.encode(image(100 + i));
    await turn();
    main.release();
    await r;
  }
}

/** Releases `thread`'s requests turn by turn until `done` settles (the main thread takes one request a turn). */
async function serve<T>(thread: HeldThread, done: Promise<T>): Promise<T> {
  let settled = false;
  void done.then(
    () => (settled = true),
    () => (settled = true),
  );
  while (!settled) {
    await turn();
    thread.release();
  }
  return done;
}

/** A main thread and one worker (`worker`) that starts at the first request that waits. */
function withWorker(worker: HeldThread, onWorkerLost?: (reason: string) => void) {
  const main = new HeldThread("main");
  const expert = new ParallelExpert(main, {
    threads: 2,
    startAfterRuns: 0,
    spawn: async () => worker,
    runLater,
    ...(onWorkerLost ? { onWorkerLost } : {}),
  });
  return { main, expert };
}

describe("ParallelExpert", () => {
  it("starts no worker for a small job; the main thread takes the requests one at a time, oldest first", async () => {
    const main = new HeldThread("main");
    let spawned = 0;
    const expert = new ParallelExpert(main, {
      threads: 2,
      startAfterRuns: 16,
      spawn: async () => (spawned++, new HeldThread("w")),
      runLater,
    });
    // A one-box picture with 4-pass mirroring: 4 encodes and 4 decodes, each 4 at once.
    const encodes = [1, 2, 3, 4].map((v) => expert.encode(image(v)));
    expect(main.ran).toEqual([]); // taken on the main thread's next free turn, not while it is busy now
    await turn();
    expect(main.waiting).toBe(1); // one at a time
    const embeddings = await serve(main, Promise.all(encodes));
    const decodes = embeddings.map((e) => expert.decode(e, new Float32Array(4)));
    await serve(main, Promise.all(decodes));
    expect(spawned).toBe(0);
    expect(main.ran).toEqual([
      "encode 1",
      "encode 2",
      "encode 3",
      "encode 4",
      "decode 1",
      "decode 2",
      "decode 3",
      "decode 4",
    ]);
  });

  it("starts workers once the main thread has served enough runs and requests wait; each thread takes the next when free", async () => {
    const main = new HeldThread("main");
    const workers: HeldThread[] = [];
    const expert = new ParallelExpert(main, {
      threads: 3,
      startAfterRuns: 4,
      spawn: async () => {
        const w = new HeldThread(`w${workers.length}`);
        workers.push(w);
        return w;
      },
      runLater,
    });
    await warmUp(expert, main, 4);
    expect(workers).toHaveLength(0); // served one at a time: nothing ever waited
    const first = [expert.encode(image(1)), expert.encode(image(2))]; // the second waits: workers start
    await turn();
    expect(workers).toHaveLength(2);
    expect(expert.workersStarted).toBe(2);
    // The first thread free takes the oldest request: here the first worker to arrive, up to WORKER_DEPTH.
    expect(WORKER_DEPTH).toBe(2);
    expect(workers[0]!.ran).toEqual(["encode 1", "encode 2"]);
    const next = [3, 4, 5, 6, 7].map((v) => expert.encode(image(v)));
    expect(workers[1]!.ran).toEqual(["encode 3", "encode 4"]);
    await turn(); // the main thread's free turn: it takes one
    expect(main.ran.slice(4)).toEqual(["encode 5"]);
    await turn(); // busy with it, the main thread takes no other: the next free thread does
    expect(main.ran.slice(4)).toEqual(["encode 5"]);
    workers[1]!.release();
    await turn();
    expect(workers[1]!.ran).toEqual(["encode 3", "encode 4", "encode 6", "encode 7"]);
    for (const t of [main, ...workers]) t.release();
    expect((await Promise.all([...first, ...next])).map((e) => e.data[0])).toEqual([1, 2, 3, 4, 5, 6, 7]);
    await expert.dispose();
    expect(workers.every((w) => w.disposed)).toBe(true);
  });

  it("gives a dead worker's requests to another thread, drops the worker and says so once", async () => {
    const worker = new HeldThread("w");
    const lost: string[] = [];
    const { main, expert } = withWorker(worker, (reason) => lost.push(reason));
    const a = expert.encode(image(1));
    const b = expert.encode(image(2)); // waits: the worker starts
    await turn();
    const c = expert.encode(image(3)); // the worker holds two: this one waits for the main thread
    expect([main.ran, worker.ran]).toEqual([[], ["encode 1", "encode 2"]]);
    worker.die(); // under requests 1 and 2: they go back into the queue, oldest first
    await turn();
    expect(lost).toEqual(["exited (code 1)"]);
    const afterwards = expert.encode(image(4));
    const all = Promise.all([a, b, c, afterwards]);
    expect((await serve(main, all)).map((e) => e.data[0])).toEqual([1, 2, 3, 4]);
    expect(main.ran).toEqual(["encode 1", "encode 2", "encode 3", "encode 4"]);
  });

  it("takes no more requests to a worker whose request failed as dead, even before it says it died", async () => {
    const dying = new HeldThread("w", new ExpertThreadDied("expert worker thread: exited (code 1)"));
    const { main, expert } = withWorker(dying);
    const a = expert.encode(image(1));
    const b = expert.encode(image(2));
    await turn();
    expect(dying.ran).toEqual(["encode 1", "encode 2"]);
    dying.release(); // both fail as dead: back into the queue, the worker dropped
    const c = expert.encode(image(3));
    expect((await serve(main, Promise.all([a, b, c]))).map((e) => e.data[0])).toEqual([1, 2, 3]);
    expect(dying.ran).toEqual(["encode 1", "encode 2"]);
    expect(main.ran).toEqual(["encode 1", "encode 2", "encode 3"]);
  });

  it("passes a model error in a worker on as that request's failure", async () => {
    const broken = new HeldThread("w", new Error("onnxruntime: bad input"));
    const { main, expert } = withWorker(broken);
    const d = expert.encode(image(1));
    const e = expert.encode(image(2));
    await turn();
    expect(broken.ran).toEqual(["encode 1", "encode 2"]);
    broken.release();
    await expect(d).rejects.toThrow("onnxruntime: bad input");
    await expect(e).rejects.toThrow("onnxruntime: bad input");
    expect(main.ran).toEqual([]); // not run again elsewhere: a model error is the answer
  });

  it("goes on with the main thread alone when a worker cannot start, and disposes one that starts too late", async () => {
    const main = new HeldThread("main");
    const lost: string[] = [];
    const expert = new ParallelExpert(main, {
      threads: 2,
      startAfterRuns: 0,
      spawn: async () => {
        throw new Error("expertWorker.js not found beside the runtime");
      },
      onWorkerLost: (r) => lost.push(r),
      runLater,
    });
    await serve(main, Promise.all([1, 2, 3].map((v) => expert.encode(image(v)))));
    expect(lost).toEqual(["expertWorker.js not found beside the runtime"]);
    expect(main.ran).toHaveLength(3);

    let finishSpawn: ((t: ExpertThread) => void) | undefined;
    const late = new HeldThread("late");
    const main2 = new HeldThread("main");
    const expert2 = new ParallelExpert(main2, {
      threads: 2,
      startAfterRuns: 0,
      spawn: () => new Promise((resolve) => (finishSpawn = resolve)),
      runLater,
    });
    await serve(main2, Promise.all([expert2.encode(image(1)), expert2.encode(image(2))]));
    await expert2.dispose();
    finishSpawn!(late);
    await turn();
    expect(late.disposed).toBe(true);
  });

  it("never starts a worker with one thread", async () => {
    const main = new HeldThread("main");
    let spawned = 0;
    const expert = new ParallelExpert(main, {
      threads: 1,
      startAfterRuns: 0,
      spawn: async () => (spawned++, new HeldThread("w")),
      runLater,
    });
    await serve(main, Promise.all([1, 2, 3, 4].map((v) => expert.encode(image(v)))));
    expect(spawned).toBe(0);
  });
});

describe("modelThreads", () => {
  it("puts sessions side by side first, up to 4, and gives further cores to each session", () => {
    expect([1, 2, 3, 4, 8, 16].map((cores) => modelThreads(cores))).toEqual([
      { threads: 1, intraOpThreads: 1 },
      { threads: 2, intraOpThreads: 1 },
      { threads: 3, intraOpThreads: 1 },
      { threads: 4, intraOpThreads: 1 },
      { threads: 4, intraOpThreads: 2 },
      { threads: 4, intraOpThreads: 4 },
    ]);
  });
});
