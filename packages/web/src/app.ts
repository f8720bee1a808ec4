/**
 * The page's state and actions. Data flow:
 *   files → decode (core, in the worker) → viewer;
 *   boxes (mouse) → segment (worker: segmentInput on onnxruntime-web, or `daft serve`) → label map;
 *   brush strokes / deletions / undo → label map; label map → niivue's drawing layer; label map → export.
 * The label map (uint16, box number per voxel, input order) is the page's, so any number of boxes fits; niivue's
 * one-byte drawing layer only shows it (model/labelLayer.ts). Between actions the layer shows the map exactly; a
 * brush stroke is read out of the layer when it ends and applied to the map.
 */
import { DaftInputError, MIRRORINGS, type CaseRecord } from "@daft/core";
import type { DecodedInput } from "./input/decodeInput.js";
import {
  boxesKey,
  boxFromCorners,
  boxNames,
  boxPrompt,
  EditHistory,
  fileBoxesForEditor,
  withName,
  withZRange,
  zRangeAround,
} from "./model/editHistory.js";
import {
  exportDicomSeg,
  exportSlicerSegmentation,
  exportLabelMap,
  exportViewerFriendly,
  labelMapFileName,
  type ExportedFile,
} from "./model/exportLabels.js";
import { openLabelMap } from "./model/openLabelMap.js";
import webPackage from "../package.json";
import {
  applyDiff,
  applyStroke,
  diffLabels,
  labelVoxelCounts,
  withoutAnyLabel,
  withoutLabel,
  type LabelDiff,
} from "./model/labelLayer.js";
import type { Backend, RoutingOverrides, SegmentOutcome } from "./segment/messages.js";
import { labelsFromOutput } from "./segment/resultLabels.js";
import { segmentOnServer } from "./segment/serverClient.js";
import type { EngineWorker } from "./segment/workerClient.js";
import { renderBoxList } from "./ui/boxList.js";
import { download, radioValue, type PageElements } from "./ui/dom.js";
import { readPicked, type OpenedInput, type PickedFileEntry } from "./ui/openFiles.js";
import { drawBoxOverlay, type OverlayBox } from "./view/boxOverlay.js";
import type { Tool, Viewer } from "./view/viewer.js";
import type { VoxelGrid } from "./view/voxelMapping.js";

interface OpenImage {
  opened: OpenedInput;
  decoded: DecodedInput;
  dimension: 2 | 3;
  grid: VoxelGrid;
}

export interface SegmentationResult {
  fileName: string;
  outcome: SegmentOutcome;
  /** Milliseconds from pressing Segment to the mask on screen. */
  wallMs: number;
}

export class App {
  image: OpenImage | undefined;
  readonly history = new EditHistory();
  result: SegmentationResult | undefined;
  /** The last run's mask confidence per box, shown while the boxes are the ones it segmented (JSON of them). */
  maskConfidence: { boxes: string; values: readonly (number | null)[] } | undefined;
  lastExport: ExportedFile | undefined;
  busy = false;
  /** Segment presses that finished (with a mask or an error). */
  segmentRuns = 0;
  /** The last segmentation's error line, cleared by a success. */
  segmentError: string | undefined;
  /** The label map: box number per voxel, input order; what undo, export and the drawing layer work from. */
  private labels: Uint16Array | undefined;
  private selected = 0;
  private drawing: [[number, number], [number, number]] | null = null;

  constructor(
    private readonly el: PageElements,
    private readonly viewer: Viewer,
    private readonly engine: EngineWorker,
  ) {
    viewer.onRedraw = () => this.drawOverlay();
    viewer.onStroke = () => this.recordStroke();
    viewer.onLocation = () => this.showSlice();
    viewer.onWindowChange = () => this.showWindow();
  }

  get tool(): Tool {
    return radioValue("tool") as Tool;
  }

  async open(entries: PickedFileEntry[]): Promise<void> {
    if (entries.length === 0 || this.busy) return;
    this.busy = true;
    this.setStatus(`Opening ${entries.length === 1 ? entries[0]!.path : `${entries.length} files`}…`);
    try {
      const opened = await readPicked(entries);
      const decoded = await this.engine.decode(opened.input);
      const dimension = decoded.kind === "study" ? decoded.study.dimension : decoded.dimension;
      await this.viewer.show(decoded.display, dimension);
      const { width, height, depth, spacing } = decoded.display;
      this.image = { opened, decoded, dimension, grid: { width, height, depth, spacing } };
      // The viewer starts with an empty drawing, which shows an empty map.
      this.labels = new Uint16Array(width * height * depth);
      const fromFile = fileBoxesForEditor(decoded.kind === "npz" ? decoded.fileBoxes : []);
      this.history.reset(fromFile.boxes);
      this.result = undefined;
      this.maskConfidence = undefined;
      this.lastExport = undefined;
      this.selected = 0;
      this.el.imageInfo.textContent = `${opened.plan.name}\n${decoded.description}`;
      this.el.resultInfo.textContent = "";
      this.el.exportInfo.textContent = "";
      this.el.dropHint.hidden = true;
      this.setStatus(
        `Opened ${opened.plan.name} (${dimension}D). ${fromFile.note}` +
          "Draw a box with the Box tool, then press Segment.",
      );
      this.applyTool();
      this.showWindow();
      this.showSlice();
      this.refresh();
    } catch (e) {
      this.setStatus(errorLine(e), true);
    } finally {
      this.busy = false;
      this.refresh();
    }
  }

  /**
   * A label map file onto the open image (model/openLabelMap.ts): its labels replace the page's, its objects become
   * the boxes, as one undoable step.
   */
  async openLabels(fileName: string, bytes: Uint8Array): Promise<void> {
    const image = this.image;
    if (!image || !this.labels || this.busy) return;
    // Busy while the file is read (a picture or DICOM label map loads its decoder first): no segment run or other
    // file can change the page's labels meanwhile.
    this.busy = true;
    this.refresh();
    try {
      const opened = await openLabelMap(bytes, fileName, {
        decoded: image.decoded,
        name: image.opened.plan.name,
        dimension: image.dimension,
      });
      const diff = diffLabels(this.labels, opened.labels);
      this.history.change(`open ${fileName}`, opened.boxes, diff ?? undefined);
      this.labels = opened.labels;
      this.viewer.showLabels(opened.labels);
      this.selected = 0;
      this.setStatus(`${opened.note}. Correct, re-segment or export.`);
    } catch (e) {
      this.setStatus(errorLine(e), true);
    } finally {
      this.busy = false;
    }
    this.refresh();
  }

  /** A box dragged on the axial view from voxel `a` to voxel `b`. */
  finishBox(a: [number, number], b: [number, number]): void {
    const image = this.image;
    if (!image) return;
    if (a[0] === b[0] && a[1] === b[1]) return this.setStatus("Drag to draw a box (press, move, release).");
    const z = this.viewer.crosshairVoxel()[2];
    const zRange: [number, number] =
      image.dimension === 3 ? zRangeAround(z, Number(this.el.zRange.value), image.grid.depth) : [0, 0];
    try {
      this.history.addBox(boxFromCorners(a, b, zRange));
    } catch (e) {
      return this.setStatus(errorLine(e), true);
    }
    this.selected = this.history.boxes.length - 1;
    this.setStatus(`Box ${this.history.boxes.length} added. Press Segment, or draw another.`);
    this.refresh();
  }

  previewBox(corners: [[number, number], [number, number]] | null): void {
    this.drawing = corners;
    this.drawOverlay();
  }

  deleteBox(index: number): void {
    if (!this.labels) return;
    const diff = withoutLabel(this.labels, index + 1);
    this.history.deleteBox(index, diff ?? undefined);
    this.applyLabels(diff, "redo");
    this.selected = Math.min(this.selected, Math.max(0, this.history.boxes.length - 1));
    this.refresh();
  }

  deleteAllBoxes(): void {
    if (!this.labels || this.history.boxes.length === 0) return;
    const diff = withoutAnyLabel(this.labels);
    this.history.change("delete all boxes", [], diff ?? undefined);
    this.applyLabels(diff, "redo");
    this.selected = 0;
    this.refresh();
  }

  setZRange(index: number, z0: number, z1: number): void {
    const box = this.history.boxes[index];
    if (!box || !this.image) return;
    this.history.replaceBox(
      index,
      withZRange(box, z0, z1, this.image.grid.depth),
      `slices of box ${index + 1}`,
    );
    this.refresh();
  }

  rename(index: number, text: string): void {
    if (!this.history.boxes[index]) return;
    try {
      const renamed = withName(this.history.boxes, index, text);
      if (renamed.name !== this.history.boxes[index]!.name)
        this.history.replaceBox(index, renamed, `name box ${index + 1}`);
    } catch (e) {
      this.setStatus(errorLine(e), true);
    }
    this.refresh();
  }

  select(index: number): void {
    this.selected = index;
    this.refresh();
  }

  undo(): void {
    const step = this.history.undo();
    if (!step) return;
    if (step.labels) this.applyLabels(step.labels, "undo");
    this.selected = Math.min(this.selected, Math.max(0, this.history.boxes.length - 1));
    this.setStatus(`Undid: ${step.what}.`);
    this.refresh();
  }

  async segment(): Promise<void> {
    const image = this.image;
    if (!image || this.busy || this.history.boxes.length === 0) return;
    this.busy = true;
    this.refresh();
    const mode = radioValue("mode");
    const started = performance.now();
    const timer = this.startProgress(started);
    try {
      const prompts = this.history.boxes.map((box) => boxPrompt(box, image.dimension));
      const overrides = this.overrides();
      const { width, height, depth } = image.grid;
      let fileName: string;
      let outcome: SegmentOutcome;
      let labels: Uint16Array;
      if (mode === "server") {
        this.showProgress("sent to the local server", 0, 0);
        const reply = await segmentOnServer(image.opened.files, prompts, overrides);
        ({ fileName } = reply);
        outcome = reply;
        labels = await labelsFromOutput(reply.output, fileName, width * height * depth);
      } else {
        ({ outcome, labels } = await this.engine.segment(
          image.opened.input,
          prompts,
          mode as Backend,
          overrides,
          (stage, done, total) => this.showProgress(stage, done, total),
        ));
        fileName = labelMapFileName(image.opened.plan.name, image.opened.plan.kind, outcome);
      }
      // The engine's labels are box numbers in input order: the map itself, taken as it comes.
      const diff = this.labels ? diffLabels(this.labels, labels) : null;
      if (diff) this.history.recordLabels("segment", diff);
      this.labels = labels;
      this.viewer.showLabels(labels);
      this.result = { fileName, outcome, wallMs: performance.now() - started };
      this.maskConfidence = { boxes: boxesKey(this.history.boxes), values: outcome.record.confidence };
      this.el.resultInfo.classList.remove("error");
      this.el.resultInfo.textContent = describeResult(
        outcome.record,
        outcome.runtime,
        this.result.wallMs,
        labels,
      );
      this.segmentError = undefined;
      this.setStatus(`Segmented ${prompts.length} box(es). Paint or erase to correct, then export.`);
    } catch (e) {
      this.segmentError = errorLine(e);
      this.el.resultInfo.classList.add("error");
      this.el.resultInfo.textContent = errorLine(e);
      this.setStatus(errorLine(e), true);
    } finally {
      clearInterval(timer);
      this.el.progress.hidden = true;
      this.busy = false;
      this.segmentRuns++;
      this.refresh();
    }
  }

  /** Saves the label map (with corrections) in `daft segment`'s format, or as PNG/NIfTI for an .npz. */
  async exportLabels(viewerFriendly = false): Promise<void> {
    const image = this.image;
    const labels = this.labels;
    if (!image || !labels) return;
    const { plan } = image.opened;
    const result = this.result;
    try {
      // Asynchronous only while a picture's PNG encoder is fetched the first time (no copy of a volume's labels).
      const file = viewerFriendly
        ? await exportViewerFriendly(image.decoded, plan.name, labels)
        : await exportLabelMap(image.decoded, plan.name, plan.kind, labels);
      if (!file) return;
      this.saved(
        file,
        !viewerFriendly && result !== undefined && equalBytes(file.bytes, result.outcome.output),
      );
    } catch (e) {
      this.el.exportInfo.textContent = errorLine(e);
      this.setStatus(errorLine(e), true);
    }
  }

  /** The second export: PNG/NIfTI for an .npz case, a DICOM-SEG for a DICOM input. */
  async exportAlternative(): Promise<void> {
    if (this.image?.decoded.kind === "npz") return this.exportLabels(true);
    const image = this.image;
    const labels = this.labels;
    if (!image || !labels) return;
    const result = this.result;
    try {
      const edited = await this.editedSinceSegment(labels, result);
      const seg = exportDicomSeg(
        image.decoded,
        image.opened.plan.name,
        image.opened.plan.kind,
        labels,
        {
          expert: result?.outcome.record.route.expert,
          edited,
          softwareVersion: webPackage.version,
        },
        boxNames(this.history.boxes),
      );
      if (!seg) return;
      if ("skipped" in seg) {
        this.el.exportInfo.textContent = `No DICOM-SEG saved: ${seg.skipped}`;
        return;
      }
      this.saved(seg, false);
    } catch (e) {
      this.el.exportInfo.textContent = errorLine(e);
      this.setStatus(errorLine(e), true);
    }
  }

  /** The labels (with corrections) as a 3D Slicer segmentation, one segment per box. */
  exportSlicer(): void {
    const image = this.image;
    const labels = this.labels;
    if (!image || !labels) return;
    const { plan } = image.opened;
    this.saved(
      exportSlicerSegmentation(
        image.decoded,
        plan.name,
        plan.kind,
        labels,
        this.history.boxes.length,
        boxNames(this.history.boxes),
      ),
      false,
    );
  }

  /** Whether the label map differs from the last segmentation's (hand corrections since). */
  private async editedSinceSegment(labels: Uint16Array, result = this.result): Promise<boolean> {
    if (!result) return true;
    const engine = await labelsFromOutput(result.outcome.output, result.fileName, labels.length);
    return engine.some((v, i) => v !== labels[i]);
  }

  private saved(file: ExportedFile, sameAsEngine: boolean): void {
    download(file.fileName, file.bytes, file.mediaType);
    this.lastExport = file;
    this.el.exportInfo.textContent =
      `Saved ${file.fileName} (${file.bytes.length.toLocaleString()} bytes)` +
      (sameAsEngine ? " — unedited: byte-identical to the engine's output" : "");
  }

  applyTool(): void {
    const tool = this.tool;
    this.viewer.setTool(tool);
    this.el.viewer.classList.toggle("box-tool", tool === "box");
  }

  refresh(): void {
    const image = this.image;
    const boxes = this.history.boxes;
    const run = this.maskConfidence;
    renderBoxList(
      this.el.boxList,
      boxes,
      image?.dimension ?? 2,
      this.selected,
      {
        select: (i) => this.select(i),
        remove: (i) => this.deleteBox(i),
        setZRange: (i, z0, z1) => this.setZRange(i, z0, z1),
        rename: (i, name) => this.rename(i, name),
      },
      run && run.boxes === boxesKey(boxes) ? run.values : undefined,
    );
    // Painting gives voxels the selected box's label (recordStroke); the brush shows its colour.
    this.viewer.setPenLabel(this.selected + 1);
    const last = this.history.lastStep;
    this.el.undoButton.disabled = !last || this.busy;
    this.el.undoButton.title = last ? `Undo: ${last.what}` : "Nothing to undo";
    this.el.clearButton.disabled = boxes.length === 0 || this.busy;
    this.el.segmentButton.disabled = !image || boxes.length === 0 || this.busy;
    this.el.segmentButton.textContent =
      this.busy && image
        ? "Segmenting…"
        : boxes.length
          ? `Segment ${boxes.length} box${boxes.length === 1 ? "" : "es"}`
          : "Segment";
    this.el.exportButton.disabled = !image || this.busy;
    this.el.labelButton.disabled = !image || this.busy;
    const dicom = image?.decoded.kind === "study" && image.decoded.study.dicom !== undefined;
    this.el.exportAltButton.hidden = image?.decoded.kind !== "npz" && !dicom;
    this.el.exportAltButton.textContent = dicom ? "Export DICOM-SEG" : "Export PNG/NIfTI";
    this.el.exportAltButton.disabled = !image || this.busy;
    this.el.exportSlicerButton.disabled = !image || this.busy;
    this.el.zRangeLabel.hidden = image?.dimension !== 3;
    this.el.sliceLabel.hidden = image?.dimension !== 3;
    this.drawOverlay();
  }

  drawOverlay(): void {
    const canvas = this.viewer.canvasElement;
    const boxes: OverlayBox[] = this.history.boxes.map((box, i) => ({
      box,
      label: i + 1,
      selected: i === this.selected,
    }));
    if (this.drawing && this.image) {
      const z = this.viewer.crosshairVoxel()[2];
      boxes.push({
        box: boxFromCorners(this.drawing[0], this.drawing[1], [z, z]),
        label: boxes.length + 1,
        selected: false,
        pending: true,
      });
    }
    drawBoxOverlay(
      this.el.overlayCanvas,
      canvas,
      this.viewer.tiles(),
      this.viewer.grid,
      this.viewer.crosshairVoxel(),
      boxes,
    );
  }

  showWindow(): void {
    const wl = this.viewer.windowLevel();
    if (!wl) return;
    this.el.windowWidth.value = String(Number(wl.width.toPrecision(5)));
    this.el.windowLevel.value = String(Number(wl.level.toPrecision(5)));
  }

  showSlice(): void {
    const grid = this.image?.grid;
    if (!grid) return;
    const z = this.viewer.crosshairVoxel()[2];
    this.el.slice.max = String(grid.depth - 1);
    this.el.slice.value = String(z);
    this.el.sliceText.textContent = `${z + 1} / ${grid.depth}`;
    this.drawOverlay();
  }

  setStatus(text: string, error = false): void {
    this.el.status.textContent = text;
    this.el.status.classList.toggle("error", error);
  }

  private recordStroke(): void {
    const image = this.image;
    if (!image || !this.labels) return;
    const diff = applyStroke(this.labels, this.viewer.layer(), image.grid, this.selected + 1);
    this.viewer.refreshLayer();
    if (!diff) return;
    this.history.recordLabels(this.tool === "erase" ? "erase" : "paint", diff);
    this.refresh();
  }

  /** Undoes or redoes a label change on the map and shows the voxels it touched. */
  private applyLabels(diff: LabelDiff | null, direction: "undo" | "redo"): void {
    if (!diff || !this.labels) return;
    applyDiff(this.labels, diff, direction);
    this.viewer.showLabelsAt(this.labels, diff.index);
  }

  private overrides(): RoutingOverrides {
    const pick = (select: HTMLSelectElement) => select.value || undefined;
    const modality = pick(this.el.modalitySelect);
    const expert = pick(this.el.expertSelect);
    const window = pick(this.el.windowSelect);
    const mirroring = MIRRORINGS.find((m) => m === this.el.mirroringSelect.value);
    const edges = this.el.edgesSelect.value === "off" ? "off" : undefined;
    return {
      ...(modality ? { modality } : {}),
      ...(expert ? { expert } : {}),
      ...(window ? { window } : {}),
      ...(mirroring ? { mirroring } : {}),
      ...(edges ? { edges } : {}),
    };
  }

  private startProgress(started: number): ReturnType<typeof setInterval> {
    this.el.progress.hidden = false;
    this.showProgress("starting", 0, 0);
    return setInterval(() => {
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      this.el.progressText.dataset["elapsed"] = `${seconds} s`;
      this.el.progressText.textContent = `${this.el.progressText.dataset["stage"] ?? ""} · ${seconds} s`;
    }, 100);
  }

  private showProgress(stage: string, done: number, total: number): void {
    const bar = this.el.progressBar;
    if (total > 1) {
      bar.max = total;
      bar.value = done;
    } else bar.removeAttribute("value"); // indeterminate
    const text = total > 1 ? `${stage} ${done}/${total}` : stage;
    this.el.progressText.dataset["stage"] = text;
    this.el.progressText.textContent = `${text} · ${this.el.progressText.dataset["elapsed"] ?? "0.0 s"}`;
  }
}

function describeResult(record: CaseRecord, runtime: string, wallMs: number, labels: Uint16Array): string {
  const t = record.timings;
  const counts = labelVoxelCounts(labels);
  const sizes = counts
    .slice(1)
    .map((n, i) => `#${i + 1}: ${n.toLocaleString()}`)
    .join(", ");
  return [
    `Expert: ${record.route.expert} — ${record.route.reason}`,
    `Ran in: ${runtime}`,
    `Time: ${Math.round(wallMs)} ms on screen; engine ${Math.round(record.totalMs)} ms ` +
      `(encode ${Math.round(t.encodeMs)} ms, decode ${Math.round(t.decodeMs)} ms, ${record.slices} slice(s))`,
    `Mask voxels: ${sizes || "none"}`,
    ...leastConfidentMasks(record),
  ].join("\n");
}

/** The masks the model was least sure of (mask confidence, lowest first): where to look first when reviewing. */
function leastConfidentMasks(record: CaseRecord, shown = 5): string[] {
  const scored = record.confidence.flatMap((c, i) => (c === null ? [] : [{ c, box: i + 1 }]));
  if (scored.length === 0) return [];
  const lowest = scored.sort((a, b) => a.c - b.c || a.box - b.box).slice(0, shown);
  const more = scored.length > shown ? ` (lowest ${shown} of ${scored.length})` : "";
  return [
    `Mask confidence, check the lowest first${more}: ${lowest.map((s) => `#${s.box} ${s.c.toFixed(2)}`).join(", ")}`,
  ];
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export function errorLine(e: unknown): string {
  if (e instanceof DaftInputError) return e.oneLine();
  return (e instanceof Error ? e.message : String(e)).replace(/\s+/g, " ").trim();
}
