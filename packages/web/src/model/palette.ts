/**
 * Label colours: the core's labelColour (the CLI's overlay PNGs use it too) of the label's view byte
 * (labelLayer.ts), as a niivue drawing colormap and as CSS colours for the box list and the box outlines, so a
 * box, its mask and its list entry share one colour. Colours repeat every VIEW_COLOURS boxes, as the view does.
 */
import { labelColour } from "@daft/core";
import { PEN_BYTE, viewByte } from "./labelLayer.js";

/** niivue's colormap object for setDrawColormap: 256 entries, 0 transparent. */
export interface DrawColormap {
  R: number[];
  G: number[];
  B: number[];
  A: number[];
  I: number[];
  labels: string[];
}

/** The colour label `label` is shown in (its view byte's). */
export function displayColour(label: number): [number, number, number] {
  return labelColour(viewByte(label));
}

/** The colormap for view bytes 0…255; the brush's byte (PEN_BYTE) takes the colour of box `penLabel`. */
export function drawColormap(penLabel: number): DrawColormap {
  const map: DrawColormap = { R: [], G: [], B: [], A: [], I: [], labels: [] };
  for (let byte = 0; byte <= PEN_BYTE; byte++) {
    const [r, g, b] = byte === 0 ? [0, 0, 0] : displayColour(byte === PEN_BYTE ? penLabel : byte);
    map.R.push(r);
    map.G.push(g);
    map.B.push(b);
    map.A.push(byte === 0 ? 0 : 255);
    map.I.push(byte);
    map.labels.push(byte === 0 ? "" : byte === PEN_BYTE ? "brush" : `colour ${byte}`);
  }
  return map;
}

export function cssColour(label: number, alpha = 1): string {
  const [r, g, b] = displayColour(label);
  return alpha === 1 ? `rgb(${r} ${g} ${b})` : `rgb(${r} ${g} ${b} / ${alpha})`;
}
