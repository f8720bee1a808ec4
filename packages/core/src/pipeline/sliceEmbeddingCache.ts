import { embeddingBytes, type Embedding } from "../model/expert.js";

export interface CacheStats {
  /** Encoder runs (cache misses). */
  encodes: number;
  hits: number;
  evictions: number;
  /** Largest number of bytes held at once. */
  peakBytes: number;
}

/**
 * Embeddings of one case's slices, computed at most once and shared by every box that meets the slice.
 *
 * The pipeline knows in advance how often each slice will be used (its propagation schedule), so it announces
 * the uses with `plan`, and an entry is dropped as soon as its last planned use is done: memory holds only the
 * slices still needed. `maxBytes` bounds it anyway (least recently used go first); `enabled: false` reproduces
 * the reference pipeline, which re-encoded the slices for every box.
 */
export class SliceEmbeddingCache {
  private readonly entries = new Map<number, { embedding: Embedding; bytes: number }>();
  private readonly pending = new Map<number, Promise<Embedding>>();
  private readonly usesLeft = new Map<number, number>();
  /** Slices computed ahead by `prefetch` whose first use has not come yet. */
  private readonly prefetched = new Set<number>();
  private bytes = 0;
  readonly stats: CacheStats = { encodes: 0, hits: 0, evictions: 0, peakBytes: 0 };

  constructor(
    private readonly options: { maxBytes: number; enabled: boolean } = { maxBytes: 1 << 30, enabled: true },
  ) {}

  /** Announce `uses` more future uses of slice `key`. */
  plan(key: number, uses = 1): void {
    this.usesLeft.set(key, (this.usesLeft.get(key) ?? 0) + uses);
  }

  /** The embedding of slice `key`, computing it with `compute` on a miss. Counts as one use. */
  async get(key: number, compute: () => Promise<Embedding>): Promise<Embedding> {
    const left = (this.usesLeft.get(key) ?? 1) - 1;
    if (left > 0) this.usesLeft.set(key, left);
    else this.usesLeft.delete(key);

    const fetchedAhead = this.prefetched.delete(key); // its first use is the use it was fetched for: no hit
    const hit = this.entries.get(key);
    if (hit) {
      if (!fetchedAhead) this.stats.hits++;
      // Refresh LRU position.
      this.entries.delete(key);
      if (left > 0) this.entries.set(key, hit);
      else this.bytes -= hit.bytes;
      return hit.embedding;
    }
    const inFlight = this.pending.get(key);
    if (inFlight) {
      if (!fetchedAhead) this.stats.hits++;
      return inFlight;
    }
    this.stats.encodes++;
    const promise = compute();
    if (!this.options.enabled) return promise;
    this.pending.set(key, promise);
    try {
      const embedding = await promise;
      if (left > 0) this.store(key, embedding);
      return embedding;
    } finally {
      this.pending.delete(key);
    }
  }

  /**
   * Starts computing slice `key` now, for a use already planned, so that it is ready (or on its way) when `get`
   * asks for it — the next slice of a 3D walk, encoded while this one is decoded and painted. Not a use itself,
   * and not counted as a hit when `get` then finds it. Does nothing when the slice is held or on its way, when no
   * use of it is planned, or when the cache is off.
   */
  prefetch(key: number, compute: () => Promise<Embedding>): void {
    if (!this.options.enabled || this.entries.has(key) || this.pending.has(key)) return;
    if ((this.usesLeft.get(key) ?? 0) === 0) return;
    this.stats.encodes++;
    this.prefetched.add(key);
    const promise = compute();
    this.pending.set(key, promise);
    promise.then(
      (embedding) => {
        this.pending.delete(key);
        if (this.usesLeft.has(key)) this.store(key, embedding);
      },
      () => {
        // Left to `get`, which computes it again and fails in its own place.
        this.pending.delete(key);
        this.prefetched.delete(key);
        this.stats.encodes--;
      },
    );
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
    this.usesLeft.clear();
    this.prefetched.clear();
    this.bytes = 0;
  }

  private store(key: number, embedding: Embedding): void {
    const bytes = embeddingBytes(embedding);
    while (this.entries.size > 0 && this.bytes + bytes > this.options.maxBytes) {
      const oldest = this.entries.keys().next().value as number;
      this.bytes -= this.entries.get(oldest)!.bytes;
      this.entries.delete(oldest);
      this.stats.evictions++;
    }
    if (bytes > this.options.maxBytes) return;
    this.entries.set(key, { embedding, bytes });
    this.bytes += bytes;
    if (this.bytes > this.stats.peakBytes) this.stats.peakBytes = this.bytes;
  }
}
