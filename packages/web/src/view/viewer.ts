/**
 * niivue, set up for this page: the input shown from an in-memory NIfTI (viewerNifti.ts), 2D images in one zoomable
 * view, volumes as axial/coronal/sagittal; niivue's drawing layer shows the page's label map (one byte per voxel,
 * see model/labelLayer.ts; colours from palette.ts) and does the brush. Mouse: left = the current tool, right-drag =
 * window/level, middle-drag = pan, wheel = zoom (2D) or slices (3D).
 */
import { DRAG_MODE, Niivue, NVImage, SHOW_RENDER, SLICE_TYPE } from "@niivue/niivue";
import { labelsToLayer, PEN_BYTE, showLabelsAt } from "../model/labelLayer.js";
import { displayColour, drawColormap } from "../model/palette.js";
import { viewerNifti, type DisplayImage } from "./viewerNifti.js";
import type { SliceTile, VoxelGrid } from "./voxelMapping.js";

export type Tool = "box" | "navigate" | "paint" | "erase";

export class Viewer {
  readonly nv: Niivue;
  grid: VoxelGrid | undefined;
  dimension: 2 | 3 = 2;
  /** After every redraw (slice, zoom, pan, resize): the box overlay follows. */
  onRedraw: () => void = () => {};
  /** After a brush stroke ends. */
  onStroke: () => void = () => {};
  /** The crosshair moved (slice scrolling, clicks). */
  onLocation: () => void = () => {};
  /** Window/level changed by dragging. */
  onWindowChange: () => void = () => {};
  /** The box the brush paints: niivue paints PEN_BYTE, shown in that box's colour. */
  private penLabel = 1;

  constructor(private readonly canvas: HTMLCanvasElement) {
    this.nv = new Niivue({
      dragAndDropEnabled: false,
      logLevel: "error",
      isColorbar: false,
      show3Dcrosshair: false,
      crosshairWidth: 1,
      crosshairColor: [1, 1, 0, 0.5],
      multiplanarShowRender: SHOW_RENDER.NEVER,
      isRadiologicalConvention: false,
      isNearestInterpolation: true,
      backColor: [0, 0, 0, 1],
      penSize: 3,
      maxDrawUndoBitmaps: 2,
      loadingText: "",
      showLegend: false,
      // The view is the input's voxel grid (see viewerNifti.ts), so patient orientation letters would mislead.
      isOrientationTextVisible: false,
    });
    const drawScene = this.nv.drawScene.bind(this.nv);
    this.nv.drawScene = () => {
      const text = drawScene();
      this.onRedraw();
      return text;
    };
    this.nv.onDrawingChanged = (action) => {
      if (action === "draw") this.onStroke();
    };
    this.nv.onLocationChange = () => this.onLocation();
    this.nv.onIntensityChange = () => this.onWindowChange();
  }

  async attach(): Promise<void> {
    await this.nv.attachToCanvas(this.canvas);
  }

  async show(display: DisplayImage, dimension: 2 | 3): Promise<void> {
    const bytes = viewerNifti(display);
    // From memory: niivue's loadVolumes would fetch the url; NVImage.loadFromUrl uses the buffer when given one.
    const image = await NVImage.loadFromUrl({
      url: "daft-image.nii",
      name: "daft-image.nii",
      buffer: bytes.buffer as ArrayBuffer,
    });
    for (const old of [...this.nv.volumes]) this.nv.removeVolume(old);
    this.nv.addVolume(image);
    this.grid = {
      width: display.width,
      height: display.height,
      depth: display.depth,
      spacing: display.spacing,
    };
    this.dimension = dimension;
    const volume = this.nv.volumes[0]!;
    if (display.invert) volume.colormapInvert = true;
    // niivue's crosshair width is in voxels: aim for about 1.5 screen pixels; none on a 2D image.
    const pixelsPerVoxel = this.canvas.height / (2 * Math.max(display.width, display.height, display.depth));
    this.nv.opts.crosshairWidth = dimension === 2 ? 0 : Math.min(1, Math.max(0.05, 1.5 / pixelsPerVoxel));
    // 2D: the wheel zooms (niivue zooms in pan mode); 3D: the wheel scrolls slices.
    this.nv.opts.dragMode = dimension === 2 ? DRAG_MODE.pan : DRAG_MODE.windowing;
    this.nv.setSliceType(dimension === 2 ? SLICE_TYPE.AXIAL : SLICE_TYPE.MULTIPLANAR);
    // Volumes: the axial view (where boxes are drawn) large on the left, coronal and sagittal stacked beside it.
    if (dimension === 3) {
      this.nv.setCustomLayout([
        { sliceType: SLICE_TYPE.AXIAL, position: [0, 0, 0.62, 1] },
        { sliceType: SLICE_TYPE.CORONAL, position: [0.62, 0, 0.38, 0.5] },
        { sliceType: SLICE_TYPE.SAGITTAL, position: [0.62, 0.5, 0.38, 0.5] },
      ]);
    } else this.nv.clearCustomLayout();
    this.nv.createEmptyDrawing();
    this.nv.setDrawColormap(drawColormap(this.penLabel) as unknown as string);
    this.nv.setDrawOpacity(0.5);
    this.nv.setPan2Dxyzmm([0, 0, 0, 1]);
    this.nv.updateGLVolume();
  }

  /** niivue's 2D tiles as last drawn. */
  tiles(): SliceTile[] {
    return this.nv.screenSlices;
  }

  get canvasElement(): HTMLCanvasElement {
    return this.canvas;
  }

  /** The crosshair's input voxel (x, y, z): z is the axial slice shown. */
  crosshairVoxel(): [number, number, number] {
    const grid = this.grid;
    if (!grid) return [0, 0, 0];
    const frac = this.nv.scene.crosshairPos;
    const at = (f: number, size: number) => Math.min(size - 1, Math.max(0, Math.floor(f * size)));
    return [at(frac[0]!, grid.width), grid.height - 1 - at(frac[1]!, grid.height), at(frac[2]!, grid.depth)];
  }

  setSlice(z: number): void {
    if (!this.grid) return;
    this.nv.scene.crosshairPos[2] = (z + 0.5) / this.grid.depth;
    this.nv.drawScene();
    this.onLocation();
  }

  /** The drawing layer niivue holds (display order, see labelLayer.ts); niivue's brush writes into it. */
  layer(): Uint8Array {
    const layer = this.nv.drawBitmap;
    if (!layer) throw new Error("no image is open");
    return layer;
  }

  /** Shows the whole label map (input order). */
  showLabels(labels: Uint16Array): void {
    labelsToLayer(labels, this.labelGrid(), this.layer());
    this.nv.refreshDrawing(true);
  }

  /** Shows the label map's voxels `index` (input order) again, e.g. after an undo. */
  showLabelsAt(labels: Uint16Array, index: Uint32Array): void {
    showLabelsAt(this.layer(), labels, index, this.labelGrid());
    this.nv.refreshDrawing(true);
  }

  /** Uploads the layer after the page rewrote some of its bytes (after a brush stroke). */
  refreshLayer(): void {
    this.nv.refreshDrawing(true);
  }

  private labelGrid(): VoxelGrid {
    if (!this.grid) throw new Error("no image is open");
    return this.grid;
  }

  setTool(tool: Tool): void {
    const drawing = tool === "paint" || tool === "erase";
    this.nv.opts.mouseEventConfig = {
      // niivue's brush paints through its crosshair handler; the Box tool handles the left button itself.
      leftButton: { primary: tool === "box" ? DRAG_MODE.none : DRAG_MODE.crosshair },
      rightButton: DRAG_MODE.windowing,
      centerButton: DRAG_MODE.pan,
    };
    this.nv.setDrawingEnabled(drawing);
    if (drawing) this.nv.setPenValue(tool === "erase" ? 0 : PEN_BYTE, false);
  }

  /**
   * The box the brush paints, for its colour: the brush's byte gets box `label`'s colour by editing that one
   * colormap entry in place (setDrawColormap would call updateGLVolume, which uploads the whole image again: slow
   * for large volumes, and this follows every selection).
   */
  setPenLabel(label: number): void {
    if (label === this.penLabel) return;
    this.penLabel = label;
    const lut = this.nv.drawLut.lut;
    lut.set([...displayColour(label), 255], PEN_BYTE * 4);
    this.nv.refreshColormaps();
    this.nv.drawScene();
  }

  setPenSize(size: number): void {
    this.nv.opts.penSize = size;
  }

  windowLevel(): { width: number; level: number } | undefined {
    const low = this.nv.volumes[0]?.cal_min;
    const high = this.nv.volumes[0]?.cal_max;
    if (low === undefined || high === undefined) return undefined;
    return { width: high - low, level: (high + low) / 2 };
  }

  setWindowLevel(width: number, level: number): void {
    const volume = this.nv.volumes[0];
    if (!volume || !(width > 0)) return;
    volume.cal_min = level - width / 2;
    volume.cal_max = level + width / 2;
    this.nv.updateGLVolume();
  }

  zoomBy(factor: number): void {
    const [x, y, z, zoom] = this.nv.scene.pan2Dxyzmm;
    this.nv.setPan2Dxyzmm([x!, y!, z!, Math.min(64, Math.max(0.25, zoom! * factor))]);
  }

  fit(): void {
    this.nv.setPan2Dxyzmm([0, 0, 0, 1]);
  }

  setMaskOpacity(opacity: number): void {
    this.nv.setDrawOpacity(opacity);
  }
}
