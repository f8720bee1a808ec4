/**
 * An input the user gave us is wrong (corrupt file, bad key, box outside the image…).
 * The CLI prints `file: message` on one line and exits non-zero.
 */
export class DaftInputError extends Error {
  override readonly name = "DaftInputError";
  constructor(
    message: string,
    /** The file (or other source) the problem is in, when known. */
    readonly source?: string,
  ) {
    super(message);
  }

  /** One line: `<source>: <message>`. */
  oneLine(): string {
    const text = this.message.replace(/\s+/g, " ").trim();
    return this.source ? `${this.source}: ${text}` : text;
  }

  /** The same error, now naming the file it came from. */
  withSource(source: string): DaftInputError {
    return this.source ? this : new DaftInputError(this.message, source);
  }
}
