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
  ) {
    this.tty = Boolean(stream.isTTY);
    this.started = now();
  }

  tick(item: string): void {
    this.done++;
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

export function formatSeconds(s: number): string {
  const t = Math.max(0, Math.round(s));
  const m = Math.floor(t / 60);
  const sec = t % 60;
  return m >= 60
    ? `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`
    : `${m}:${String(sec).padStart(2, "0")}`;
}
