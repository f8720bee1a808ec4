import { readFile } from "node:fs/promises";

/**
 * A file's bytes as a plain Uint8Array over the buffer readFile filled: no copy (a NIfTI volume can be hundreds of
 * MB), and not a Buffer, whose `slice` is a view where the core's decoders expect Uint8Array's copy.
 */
export async function readFileBytes(path: string): Promise<Uint8Array> {
  const buffer = await readFile(path);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
