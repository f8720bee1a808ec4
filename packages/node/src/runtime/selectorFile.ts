import { readFile } from "node:fs/promises";
import { DaftInputError, parseSelector, type Selector } from "@daft/core";

/** Reads and validates a learned selector JSON (daft selector train); errors name the file. */
export async function loadSelector(path: string): Promise<Selector> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new DaftInputError(
      (error as NodeJS.ErrnoException).code === "ENOENT" ? "not found" : (error as Error).message,
      path,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new DaftInputError(`not valid JSON: ${(error as Error).message}`, path);
  }
  return parseSelector(value, path);
}
