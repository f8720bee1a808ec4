import type { DecodeResult, Embedding, Expert } from "./expert.js";
import { describe, expect, it } from "vitest";
import { ExpertThreadDied, modelThreads, ParallelExpert, type ExpertThread } from "./parallelExpert.js";

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
const turn = () => new Promise((r) => setImmediate(r));

/** Lets the main thread serve `runs` requests one by one (below the start threshold, nothing concurrent). */
async function warmUp(expert: ParallelExpert, main: HeldThread, runs: number) {
  for (let i = 0; i < runs; i++) {
    const r = expert.encode(image(100 + i));
    main.release();
    await r;
  }
}

describe("ParallelExpert", () => {
  it("starts no worker for a small job, even when asked for several results at once", async () => {
    const main = new HeldThread("main");
    let spawned = 0;
    const expert = new ParallelExpert(main, {
      threads: 2,
      startAfterRuns: 16,
      spawn: async () => (spawned++, new HeldThread("w")),
    });
    // A one-box picture with 4-pass mirroring: 4 encodes and 4 decodes, each 4 at once.
    const encodes = [1, 2, 3, 4].map((v) => expert.encode(image(v)));
    main.release();
    const embeddings = await Promise.all(encodes);
    const decodes = embeddings.map((e) => expert.decode(e, new Float32Array(4)));
    main.release();
    await Promise.all(decodes);
    await turn();
    expect(spawned).toBe(0);
    expect(main.ran).toHaveLength(8);
  });

  it("starts workers once the main thread has served enough runs and is busy, then shares requests out", async () => {
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
    });
    await warmUp(expert, main, 4);
    expect(workers).toHaveLength(0); // served one at a time: never busy when asked
    const first = [expert.encode(image(1)), expert.encode(image(2))]; // the second finds main busy: start
    await turn();
    expect(workers).toHaveLength(2);
    expect(expert.workersStarted).toBe(2);
    // Both queue on main (the workers were not there yet); the next go to whichever has fewest outstanding.
    const next = [expert.encode(image(3)), expert.encode(image(4)), expert.encode(image(5))];
    expect(workers.map((w) => w.ran)).toEqual([["encode 3", "encode 5"], ["encode 4"]]);
    expect(main.ran.slice(-2)).toEqual(["encode 1", "encode 2"]);
    for (const t of [main, ...workers]) t.release();
    expect((await Promise.all([...first, ...next])).map((e) => e.data[0])).toEqual([1, 2, 3, 4, 5]);
    await expert.dispose();
    expect(workers.every((w) => w.disposed)).toBe(true);
  });

  it("reruns a dead worker's requests on the main thread, drops the worker and says so once", async () => {
    const main = new HeldThread("main");
    const worker = new HeldThread("w");
    const lost: string[] = [];
    const expert = new ParallelExpert(main, {
      threads: 2,
      startAfterRuns: 0,
      spawn: async () => worker,
      onWorkerLost: (reason) => lost.push(reason),
    });
    const a = expert.encode(image(1));
    const b = expert.encode(image(2)); // main busy: the worker starts
    await turn();
    const c = expert.encode(image(3)); // goes to the idle worker
    expect(worker.ran).toEqual(["encode 3"]);
    worker.die(); // under request 3
    const afterwards = expert.encode(image(4)); // the worker is gone: main takes it
    expect(lost).toEqual(["exited (code 1)"]);
    await turn();
    main.release();
    expect((await Promise.all([a, b, c, afterwards])).map((e) => e.data[0])).toEqual([1, 2, 3, 4]);
    expect(main.ran).toEqual(["encode 1", "encode 2", "encode 4", "encode 3"]);
  });

  it("fails over a request whose worker rejects it as dead, but passes a model error on", async () => {
    const main = new HeldThread("main");
    const dying = new HeldThread("w", new ExpertThreadDied("expert worker thread: exited (code 1)"));
    const expert = new ParallelExpert(main, { threads: 2, startAfterRuns: 0, spawn: async () => dying });
    const a = expert.encode(image(1));
    const b = expert.encode(image(2));
    await turn();
    const c = expert.encode(image(3)); // the worker's
    dying.release(); // rejects as dead: rerun on main
    await turn();
    main.release();
    expect((await Promise.all([a, b])).map((e) => e.data[0])).toEqual([1, 2]);
    await turn();
    main.release();
    expect((await c).data[0]).toBe(3);
    expect(main.ran).toContain("encode 3");

    const main2 = new HeldThread("main");
    const broken = new HeldThread("w", new Error("onnxruntime: bad input"));
    const expert2 = new ParallelExpert(main2, { threads: 2, startAfterRuns: 0, spawn: async () => broken });
    const d = expert2.encode(image(1));
    const e = expert2.encode(image(2));
    await turn();
    const f = expert2.encode(image(3));
    broken.release();
    await expect(f).rejects.toThrow("onnxruntime: bad input");
    main2.release();
    await Promise.all([d, e]);
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
    });
    const all = [1, 2, 3].map((v) => expert.encode(image(v)));
    await turn();
    main.release();
    await Promise.all(all);
    expect(lost).toEqual(["expertWorker.js not found beside the runtime"]);
    expect(main.ran).toHaveLength(3);

    let finishSpawn: ((t: ExpertThread) => void) | undefined;
    const late = new HeldThread("late");
    const main2 = new HeldThread("main");
    const expert2 = new ParallelExpert(main2, {
      threads: 2,
      startAfterRuns: 0,
      spawn: () => new Promise((resolve) => (finishSpawn = resolve)),
    });
    const both = [expert2.encode(image(1)), expert2.encode(image(2))];
    main2.release();
    await Promise.all(both);
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
    });
    const all = [1, 2, 3, 4].map((v) => expert.encode(image(v)));
    main.release();
    await Promise.all(all);
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
