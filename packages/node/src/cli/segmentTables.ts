/**
 * The two tables `daft segment` writes beside the label maps, one row per case and one per box:
 * - timings.csv: routing and time per stage (what bench/ and the README's speed figures read);
 * - objects.csv: per box its label, expert, voxels in the label map, the mask's confidence (maskConfidence.ts) and
 *   the decoder's own IoU prediction, so a reviewer can sort hundreds of objects and look at the least certain first.
 * Rows are kept per input and written in the inputs' order; --continue carries over the earlier run's rows of
 * the inputs it skips.
 */
import { join } from "node:path";
import { objectName, type CaseRecord } from "@daft/core";
import { writeFileAtomic } from "../io/atomicWrite.js";
import { EarlierRows } from "./continueRun.js";
import type { InputRef } from "./segmentInputs.js";

export const TIMING_HEADER = [
  "case",
  "modality",
  "expert",
  "route",
  "confidence",
  "boxes",
  "slices",
  "encodes",
  "preprocess_ms",
  "encode_ms",
  "decode_ms",
  "postprocess_ms",
  "io_ms",
  "total_ms",
].join(",");

export const OBJECT_HEADER = [
  "case",
  "label",
  "expert",
  "voxels",
  "mask_confidence",
  "predicted_iou",
  "name",
].join(",");

/** objects.csv as written before object names (session 19): still read by daft eval. */
export const OBJECT_HEADER_WITHOUT_NAME = OBJECT_HEADER.replace(/,name$/, "");

export class SegmentRunTables {
  private readonly timings = new Map<InputRef, string[]>();
  private readonly objects = new Map<InputRef, string[]>();

  /** A segmented input's rows. */
  add(input: InputRef, record: CaseRecord, labels: Uint16Array, ioMs: number, totalMs: number): void {
    this.timings.set(input, [timingRow(record, ioMs, totalMs)]);
    this.objects.set(input, objectRows(record, labels));
  }

  /** A skipped input's rows from the earlier run's files (none when they did not hold it). */
  keep(input: InputRef, earlier: { timings: EarlierRows; objects: EarlierRows }): void {
    this.timings.set(input, earlier.timings.rowsOf(input.name));
    this.objects.set(input, earlier.objects.rowsOf(input.name));
  }

  async write(outDir: string, inputs: readonly InputRef[]): Promise<void> {
    const table = (header: string, rows: Map<InputRef, string[]>) =>
      `${[header, ...inputs.flatMap((input) => rows.get(input) ?? [])].join("\n")}\n`;
    await writeFileAtomic(join(outDir, "timings.csv"), table(TIMING_HEADER, this.timings));
    await writeFileAtomic(join(outDir, "objects.csv"), table(OBJECT_HEADER, this.objects));
  }
}

function timingRow(r: CaseRecord, ioMs: number, totalMs: number): string {
  const t = r.timings;
  const ms = (v: number) => v.toFixed(1);
  return [
    r.case,
    r.route.modality ?? "",
    r.route.expert,
    r.route.rule,
    r.route.confidence === undefined ? "" : r.route.confidence.toFixed(3),
    r.boxes,
    r.slices,
    r.cache.encodes,
    ms(t.preprocessMs),
    ms(t.encodeMs),
    ms(t.decodeMs),
    ms(t.postprocessMs),
    ms(ioMs + t.decodeInputMs + t.encodeOutputMs),
    ms(totalMs),
  ].join(",");
}

/** One row per box: its label's voxels in the written label map (later boxes overwrite), its confidence and IoU. */
function objectRows(r: CaseRecord, labels: Uint16Array): string[] {
  const voxels = new Array<number>(r.boxes + 1).fill(0);
  for (let i = 0; i < labels.length; i++) voxels[labels[i]!]!++;
  const value = (x: number | null | undefined) => (x === null || x === undefined ? "" : x.toFixed(4));
  return r.confidence.map((confidence, i) =>
    [
      r.case,
      i + 1,
      r.route.expert,
      voxels[i + 1] ?? 0,
      value(confidence),
      value(r.predictedIou[i]),
      objectName(r.names, i + 1),
    ].join(","),
  );
}
