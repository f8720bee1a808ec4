/** The page's elements (index.html), looked up once and typed. */
function get<T extends HTMLElement>(id: string, type: { new (): T }): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`index.html lacks #${id}`);
  return element;
}

export function pageElements() {
  return {
    fileInput: get("file-input", HTMLInputElement),
    folderInput: get("folder-input", HTMLInputElement),
    labelButton: get("label-button", HTMLButtonElement),
    labelInput: get("label-input", HTMLInputElement),
    imageInfo: get("image-info", HTMLParagraphElement),
    modeInfo: get("mode-info", HTMLParagraphElement),
    modalitySelect: get("modality-select", HTMLSelectElement),
    expertSelect: get("expert-select", HTMLSelectElement),
    windowSelect: get("window-select", HTMLSelectElement),
    mirroringSelect: get("mirroring-select", HTMLSelectElement),
    edgesSelect: get("edges-select", HTMLSelectElement),
    zRange: get("z-range", HTMLInputElement),
    zRangeLabel: get("z-range-label", HTMLLabelElement),
    penSize: get("pen-size", HTMLInputElement),
    boxList: get("box-list", HTMLOListElement),
    undoButton: get("undo-button", HTMLButtonElement),
    clearButton: get("clear-button", HTMLButtonElement),
    segmentButton: get("segment-button", HTMLButtonElement),
    progress: get("progress", HTMLDivElement),
    progressBar: get("progress-bar", HTMLProgressElement),
    progressText: get("progress-text", HTMLSpanElement),
    resultInfo: get("result-info", HTMLParagraphElement),
    opacity: get("opacity", HTMLInputElement),
    exportButton: get("export-button", HTMLButtonElement),
    exportAltButton: get("export-alt-button", HTMLButtonElement),
    exportSlicerButton: get("export-slicer-button", HTMLButtonElement),
    exportInfo: get("export-info", HTMLParagraphElement),
    windowWidth: get("window-width", HTMLInputElement),
    windowLevel: get("window-level", HTMLInputElement),
    windowPreset: get("window-preset", HTMLSelectElement),
    sliceLabel: get("slice-label", HTMLLabelElement),
    slice: get("slice", HTMLInputElement),
    sliceText: get("slice-text", HTMLSpanElement),
    zoomIn: get("zoom-in", HTMLButtonElement),
    zoomOut: get("zoom-out", HTMLButtonElement),
    zoomReset: get("zoom-reset", HTMLButtonElement),
    viewer: get("viewer", HTMLDivElement),
    niivueCanvas: get("niivue-canvas", HTMLCanvasElement),
    overlayCanvas: get("overlay-canvas", HTMLCanvasElement),
    dropHint: get("drop-hint", HTMLDivElement),
    status: get("status", HTMLDivElement),
  };
}

export type PageElements = ReturnType<typeof pageElements>;

/** The checked value of a radio group. */
export function radioValue(name: string): string {
  return document.querySelector<HTMLInputElement>(`input[name="${name}"]:checked`)?.value ?? "";
}

export function setOptions(select: HTMLSelectElement, values: readonly string[]): void {
  for (const value of values) select.add(new Option(value, value));
}

/** Saves bytes as a download. */
export function download(fileName: string, bytes: Uint8Array, mediaType: string): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: mediaType }));
  const link = document.createElement("a");
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
