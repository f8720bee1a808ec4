import { readFile } from "node:fs/promises";
import { DaftInputError, parseSubsets, type Subsets } from "@daft/core";

/** Reads and validates a subsets JSON (daft subsets propose; a manifest's routing.subsets); errors name the file. */
export async function loadSubsets(path: string): Promise<Subsets> {
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
  return parseSubsets(value, path);
}
