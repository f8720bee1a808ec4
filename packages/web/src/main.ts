/** Starts the page: the viewer, the engine worker, the controls; `window.__daft` lets tests read the state. */
import "./styles.css";
import { CT_WINDOW_PRESETS, parseManifest } from "@daft/core";
import { App, errorLine } from "./app.js";
import { EngineWorker } from "./segment/workerClient.js";
import { wasmThreads } from "./segment/wasmThreads.js";
import { serverHealth } from "./segment/serverClient.js";
import { enableBoxDrawing } from "./ui/boxDrawing.js";
import { pageElements, setOptions, type PageElements } from "./ui/dom.js";
import { entriesOfDrop, entriesOfInput } from "./ui/openFiles.js";
import { testHooks } from "./ui/testHooks.js";
import { Viewer } from "./view/viewer.js";

async function start(): Promise<void> {
  const el = pageElements();
  const viewer = new Viewer(el.niivueCanvas);
  await viewer.attach();
  const engine = new EngineWorker();
  const app = new App(el, viewer, engine);
  wireOpening(el, app);
  wireControls(el, app, viewer);
  enableBoxDrawing(el.viewer, viewer, {
    active: () => app.tool === "box" && !!app.image,
    preview: (corners) => app.previewBox(corners),
    finish: (a, b) => app.finishBox(a, b),
  });
  app.applyTool();
  app.refresh();
  (window as unknown as { __daft: unknown }).__daft = testHooks(app, viewer, engine);
  await Promise.all([describeModes(el), fillRoutingChoices(el)]);
}

function wireOpening(el: PageElements, app: App): void {
  const openFrom = (input: HTMLInputElement) => async () => {
    await app.open(entriesOfInput(input));
    input.value = "";
  };
  el.fileInput.onchange = openFrom(el.fileInput);
  el.folderInput.onchange = openFrom(el.folderInput);
  el.labelButton.onclick = () => el.labelInput.click();
  el.labelInput.onchange = async () => {
    const file = el.labelInput.files?.[0];
    if (file) await app.openLabels(file.name, new Uint8Array(await file.arrayBuffer()));
    el.labelInput.value = "";
  };
  el.viewer.addEventListener("dragover", (event) => {
    event.preventDefault();
    el.viewer.classList.add("dragging");
  });
  el.viewer.addEventListener("dragleave", () => el.viewer.classList.remove("dragging"));
  el.viewer.addEventListener("drop", async (event) => {
    event.preventDefault();
    el.viewer.classList.remove("dragging");
    if (event.dataTransfer) await app.open(await entriesOfDrop(event.dataTransfer));
  });
}

function wireControls(el: PageElements, app: App, viewer: Viewer): void {
  for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="tool"]')) {
    radio.onchange = () => app.applyTool();
  }
  for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="mode"]')) {
    radio.onchange = () => describeModes(el);
  }
  el.undoButton.onclick = () => app.undo();
  el.clearButton.onclick = () => app.deleteAllBoxes();
  el.segmentButton.onclick = () => app.segment();
  el.exportButton.onclick = () => void app.exportLabels();
  el.exportAltButton.onclick = () => void app.exportAlternative();
  el.exportSlicerButton.onclick = () => app.exportSlicer();
  el.penSize.onchange = () => viewer.setPenSize(Math.max(1, Number(el.penSize.value) || 1));
  el.opacity.oninput = () => viewer.setMaskOpacity(Number(el.opacity.value));
  const setWindow = () => viewer.setWindowLevel(Number(el.windowWidth.value), Number(el.windowLevel.value));
  el.windowWidth.onchange = setWindow;
  el.windowLevel.onchange = setWindow;
  setOptions(el.windowPreset, Object.keys(CT_WINDOW_PRESETS));
  el.windowPreset.onchange = () => {
    const preset = CT_WINDOW_PRESETS[el.windowPreset.value];
    if (preset) viewer.setWindowLevel(preset.width, preset.level);
    app.showWindow();
    el.windowPreset.value = "";
  };
  el.slice.oninput = () => viewer.setSlice(Number(el.slice.value));
  el.zoomIn.onclick = () => viewer.zoomBy(1.25);
  el.zoomOut.onclick = () => viewer.zoomBy(0.8);
  el.zoomReset.onclick = () => viewer.fit();
  window.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key === "z") {
      event.preventDefault();
      app.undo();
    }
  });
}

/** Says where segmentation will run and what this page can use. */
async function describeModes(el: PageElements): Promise<void> {
  const webGpu = document.querySelector<HTMLInputElement>('input[name="mode"][value="webgpu"]')!;
  const server = document.querySelector<HTMLInputElement>('input[name="mode"][value="server"]')!;
  const hasGpu = "gpu" in navigator;
  webGpu.disabled = !hasGpu;
  const health = await serverHealth();
  server.disabled = !health;
  if ((webGpu.checked && webGpu.disabled) || (server.checked && server.disabled)) {
    document.querySelector<HTMLInputElement>('input[name="mode"][value="wasm"]')!.checked = true;
  }
  const mode = document.querySelector<HTMLInputElement>('input[name="mode"]:checked')!.value;
  const lines = [
    mode === "server"
      ? "Runs on: the local server (onnxruntime-node); the image is sent to it."
      : `Runs in: this browser (onnxruntime-web ${mode === "webgpu" ? "WebGPU, WASM if it fails" : "WASM"}); the image never leaves the page.`,
    wasmRunsOn(self.crossOriginIsolated, navigator.hardwareConcurrency || 1),
    hasGpu ? "WebGPU API present." : "No WebGPU in this browser.",
    health ? `Local server: ${health}.` : "No local server API at this address.",
  ];
  el.modeInfo.textContent = lines.join("\n");
}

/** The manifest's experts and modalities for the routing overrides; CT windows for --window. */
async function fillRoutingChoices(el: PageElements): Promise<void> {
  setOptions(el.windowSelect, Object.keys(CT_WINDOW_PRESETS));
  try {
    const response = await fetch("/models/manifest.json");
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const manifest = parseManifest(await response.json());
    setOptions(
      el.expertSelect,
      manifest.experts.map((e) => e.name),
    );
    const modalities = new Set([
      ...manifest.experts.flatMap((e) => e.modalities).filter((m) => m !== "*"),
      ...manifest.routing.filenameRules.map((r) => r.modality),
    ]);
    setOptions(el.modalitySelect, [...modalities].sort());
  } catch (e) {
    el.modeInfo.textContent += `\nModels not available at /models/manifest.json (${errorLine(e)}).`;
  }
}

start().catch((e) => {
  const status = document.getElementById("status");
  if (status) {
    status.textContent = `The page could not start: ${errorLine(e)}`;
    status.classList.add("error");
  }
});

/** The status line on how WASM uses this browser's cores (wasmThreads.ts). */
function wasmRunsOn(isolated: boolean, cores: number): string {
  const { sessions, threads } = wasmThreads(isolated, cores);
  const each = `${threads} thread${threads === 1 ? "" : "s"}`;
  const how = sessions > 1 ? `up to ${sessions} sessions side by side, ${each} each` : each;
  return `${isolated ? "Cross-origin isolated" : "Not cross-origin isolated"}: WASM runs on ${how}.`;
}
