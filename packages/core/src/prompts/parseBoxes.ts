/**
 * Box prompts as users write them: `--box x0,y0,x1,y1` (2D) or `--box x0,y0,z0,x1,y1,z1` (3D), and box files —
 * JSON (`[[x0,y0,x1,y1], …]` or `{"boxes": [[…], …], "names"?: ["…", …]}`: prompts/objectNames.ts) or CSV (one
 * box per line, 4 or 6 numbers, an optional header line, `#` comments). Max corners are inclusive. Whether the numbers are voxels or millimetres is decided
 * by the caller (--world).
 */
import { DaftInputError } from "../errors.js";
import { checkObjectName, namesForBoxes } from "./objectNames.js";

const SHAPES = "4 numbers (x0,y0,x1,y1) or 6 (x0,y0,z0,x1,y1,z1)";

/** One `--box` value. */
export function parseBoxArgument(text: string): number[] {
  const parts = text.split(/[,\s]+/).filter((p) => p !== "");
  const numbers = parts.map(Number);
  if ((numbers.length !== 4 && numbers.length !== 6) || !numbers.every(Number.isFinite)) {
    throw new DaftInputError(`--box "${text}" needs ${SHAPES}`);
  }
  return numbers;
}

/** A boxes file's text; JSON when it starts with `[` or `{`, CSV otherwise. Errors name `source`. */
export function parseBoxesFile(text: string, source: string): number[][] {
  return parsePromptFile(text, source).boxes;
}

/** A boxes file's boxes and, when a JSON object gives them, the objects' names (one per box). */
export function parsePromptFile(text: string, source: string): { boxes: number[][]; names?: string[] } {
  const trimmed = text.trim();
  const { boxes, names } =
    trimmed.startsWith("[") || trimmed.startsWith("{")
      ? boxesFromJson(trimmed, source)
      : { boxes: boxesFromCsv(text, source), names: undefined };
  if (boxes.length === 0) throw new DaftInputError("holds no boxes", source);
  const width = boxes[0]!.length;
  const odd = boxes.findIndex((b) => b.length !== width);
  if (odd >= 0) {
    throw new DaftInputError(
      `box ${odd} has ${boxes[odd]!.length} numbers, box 0 has ${width}: mixed 2D and 3D boxes`,
      source,
    );
  }
  if (!names) return { boxes };
  try {
    return { boxes, names: namesForBoxes(names, boxes.length) };
  } catch (error) {
    throw (error as DaftInputError).withSource(source);
  }
}

function boxesFromJson(text: string, source: string): { boxes: number[][]; names?: string[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new DaftInputError(`not valid JSON (${(error as Error).message})`, source);
  }
  const list = Array.isArray(parsed)
    ? parsed
    : parsed !== null && typeof parsed === "object" && Array.isArray((parsed as { boxes?: unknown }).boxes)
      ? (parsed as { boxes: unknown[] }).boxes
      : undefined;
  if (!list) throw new DaftInputError('JSON must be a list of boxes or {"boxes": [...]}', source);
  const givenNames = Array.isArray(parsed) ? undefined : (parsed as { names?: unknown }).names;
  if (givenNames !== undefined && !Array.isArray(givenNames))
    throw new DaftInputError('"names" must be a list of strings, one per box', source);
  let names: string[] | undefined;
  try {
    names = givenNames?.map((n, i) => checkObjectName(n, `name ${i}`));
  } catch (error) {
    throw (error as DaftInputError).withSource(source);
  }
  const boxes = list.map((entry, i) => {
    const ok =
      Array.isArray(entry) &&
      (entry.length === 4 || entry.length === 6) &&
      entry.every((v) => typeof v === "number" && Number.isFinite(v));
    if (!ok) throw new DaftInputError(`box ${i} ${JSON.stringify(entry)} is not ${SHAPES}`, source);
    return entry as number[];
  });
  return names ? { boxes, names } : { boxes };
}

function boxesFromCsv(text: string, source: string): number[][] {
  const boxes: number[][] = [];
  const lines = text.split(/\r?\n/);
  let firstLine = true;
  lines.forEach((raw, index) => {
    const line = raw.replace(/#.*/, "").trim();
    if (line === "") return;
    const headerAllowed = firstLine;
    firstLine = false;
    const cells = line.split(/[,;\t ]+/).filter((c) => c !== "");
    const numbers = cells.map(Number);
    if (numbers.every(Number.isFinite) && (numbers.length === 4 || numbers.length === 6)) {
      boxes.push(numbers);
      return;
    }
    const isHeader = headerAllowed && cells.every((c) => /^[a-z_]+[0-9]?$/i.test(c));
    if (isHeader) return;
    throw new DaftInputError(`line ${index + 1} "${raw.trim()}" is not ${SHAPES}`, source);
  });
  return boxes;
}
