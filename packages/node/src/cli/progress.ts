/** Progress on stderr: counts, percentage, ETA. Redraws one line on a terminal, prints lines otherwise. */
export class Progress {
  private done = 0;
  private readonly started = Date.now();
  private readonly tty: boolean;

  constructor(
    private readonly total: number,
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly enabled = true,
  ) {
    this.tty = Boolean(stream.isTTY);
  }

  tick(item: string): void {
    this.done++;
    if (!this.enabled) return;
    const elapsed = (Date.now() - this.started) / 1000;
    const eta = this.done > 0 ? (elapsed / this.done) * (this.total - this.done) : 0;
    const pct = Math.floor((100 * this.done) / Math.max(this.total, 1));
    const width = 24;
    const filled = Math.round((width * this.done) / Math.max(this.total, 1));
    const bar = "#".repeat(filled) + "-".repeat(width - filled);
    const line = `${this.label} [${bar}] ${this.done}/${this.total} ${pct}% ETA ${formatSeconds(eta)} ${item}`;
    if (this.tty) this.stream.write(`\r\x1b[K${line}${this.done === this.total ? "\n" : ""}`);
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
