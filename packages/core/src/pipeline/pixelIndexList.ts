/**
 * A growing set of pixel indices (offsets into a label plane), pushed in increasing order within each row of a
 * window and kept as runs of consecutive indices: a mask's sure pixels take about two runs per row, so a 3D walk
 * over large organs stays a few megabytes instead of four bytes a voxel.
 */
export class PixelIndexList {
  private starts: Int32Array<ArrayBuffer> = new Int32Array(16);
  private ends: Int32Array<ArrayBuffer> = new Int32Array(16);
  private runs = 0;
  private count = 0;

  /** How many indices were pushed. */
  get length(): number {
    return this.count;
  }

  push(index: number): void {
    this.count++;
    const last = this.runs - 1;
    if (last >= 0 && this.ends[last] === index) {
      this.ends[last] = index + 1;
      return;
    }
    if (this.runs === this.starts.length) {
      this.starts = grow(this.starts);
      this.ends = grow(this.ends);
    }
    this.starts[this.runs] = index;
    this.ends[this.runs++] = index + 1;
  }

  /** Calls `visit` with each run [start, end) in the order pushed. */
  forEachRun(visit: (start: number, end: number) => void): void {
    for (let r = 0; r < this.runs; r++) visit(this.starts[r]!, this.ends[r]!);
  }

  /** One past the largest index pushed (0 when empty). */
  extent(): number {
    let max = 0;
    for (let r = 0; r < this.runs; r++) if (this.ends[r]! > max) max = this.ends[r]!;
    return max;
  }

  /** Every index pushed, in the order pushed (tests and small lists). */
  indices(): number[] {
    const out: number[] = [];
    this.forEachRun((start, end) => {
      for (let p = start; p < end; p++) out.push(p);
    });
    return out;
  }
}

function grow(a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}
