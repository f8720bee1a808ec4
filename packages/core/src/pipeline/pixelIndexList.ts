/** A growable list of pixel indices (offsets into a label plane), kept as an Int32Array so a 3D walk stays compact. */
export class PixelIndexList {
  private data = new Int32Array(64);
  private count = 0;

  get length(): number {
    return this.count;
  }

  push(index: number): void {
    if (this.count === this.data.length) {
      const grown = new Int32Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.count++] = index;
  }

  /** The indices pushed so far (a view: valid until the next push). */
  values(): Int32Array {
    return this.data.subarray(0, this.count);
  }
}
