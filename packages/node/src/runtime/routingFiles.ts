import { readFile } from "node:fs/promises";
import { DaftInputError, parseSelector, parseSubsets, type Selector, type Subsets } from "@daft/core";

/** Reads a JSON file and validates it with the core's parser; every error names the file. */
async function loadJsonFile<T>(path: string, parse: (value: unknown, source: string) => T): Promise<T> {
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
  return parse(value, path);
}

/** A learned selector JSON (daft selector train; a manifest's routing.selector). */
export function loadSelector(path: string): Promise<Selector> {
  return loadJsonFile(path, parseSelector);
}

/** A subsets JSON (daft subsets propose; a manifest's routing.subsets). */
export function loadSubsets(path: string): Promise<Subsets> {
  return loadJsonFile(path, parseSubsets);
}
