/**
 * Progress on stderr: counts, percentage, ETA. Redraws one line on a terminal; into a log file or pipe it writes
 * the first item, then one line every LOG_INTERVAL_MS at most, and the last, so a log of 461 cases holds a few
 * lines instead of 461.
 */
export class Progress {
  static readonly LOG_INTERVAL_MS = 10_000;
  private done = 0;
  private readonly started: number;
  private lastLogged = -Infinity;
  private readonly tty: boolean;

  constructor(
    private readonly total: number,
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly enabled = true,
    private readonly now: () => number = Date.now,
    /** When the work began (default: now), for the ETA of a bar drawn once the work is under way. */
    started?: number,
  ) {
    this.tty = Boolean(stream.isTTY);
    this.started = started ?? now();
  }

  tick(item: string): void {
    this.update(this.done + 1, item);
  }

  /** Sets how many items are done and redraws (tick is update(done + 1)). */
  update(done: number, item: string): void {
    this.done = done;
    if (!this.enabled) return;
    const now = this.now();
    const last = this.done === this.total;
    if (!this.tty && !last && now - this.lastLogged < Progress.LOG_INTERVAL_MS) return;
    this.lastLogged = now;
    const elapsed = (now - this.started) / 1000;
    const eta = this.done > 0 ? (elapsed / this.done) * (this.total - this.done) : 0;
    const pct = Math.floor((100 * this.done) / Math.max(this.total, 1));
    const width = 24;
    const filled = Math.round((width * this.done) / Math.max(this.total, 1));
    const bar = "#".repeat(filled) + "-".repeat(width - filled);
    const line = `${this.label} [${bar}] ${this.done}/${this.total} ${pct}% ETA ${formatSeconds(eta)} ${item}`;
    if (this.tty) this.stream.write(`\r\x1b[K${line}${last ? "\n" : ""}`);
    else this.stream.write(`${line}\n`);
  }
}

/**
 * One case's own progress, for a single long input (a large volume, a picture with hundreds of boxes) that would
 * otherwise show nothing until it is written: its parts done (the core's onProgress) as a bar with an ETA,
 * drawn on a terminal only, and only once the case has taken `delayMs` — a quick case, a log file or a pipe see
 * nothing new.
 */
export class CaseProgress {
  /** Redraws at most this often (a volume has hundreds of slice steps), and always the last. */
  static readonly REDRAW_MS = 100;
  private bar: Progress | undefined;
  private readonly started: number;
  private drawn = -Infinity;
  private finished = false;

  constructor(
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly now: () => number = Date.now,
    private readonly delayMs = 1000,
  ) {
    this.started = now();
  }

  update(done: number, total: number): void {
    if (!this.stream.isTTY) return;
    const now = this.now();
    if (!this.bar) {
      if (done >= total || now - this.started < this.delayMs) return;
      this.bar = new Progress(total, this.label, this.stream, true, this.now, this.started);
    }
    if (done < total && now - this.drawn < CaseProgress.REDRAW_MS) return;
    this.drawn = now;
    this.finished = done >= total;
    this.bar.update(done, "");
  }

  /** Ends a bar left unfinished (the case failed) with a line break, so what follows starts a line of its own. */
  end(): void {
    if (this.bar && !this.finished) this.stream.write("\n");
    this.finished = true;
  }
}

export function formatSeconds(s: number): string {
  const t = Math.max(0, Math.round(s));
  const m = Math.floor(t / 60);
  const sec = t % 60;
  return m >= 60
    ? `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`
    : `${m}:${String(sec).padStart(2, "0")}`;
}
