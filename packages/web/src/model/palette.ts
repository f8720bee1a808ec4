/**
 * Label colours: the core's labelColour (the CLI's overlay PNGs use it too), as a niivue drawing colormap and as
 * CSS colours for the box list, so a box, its mask and its list entry share one colour.
 */
import { labelColour } from "@daft/core";
import { MAX_LABEL } from "./labelLayer.js";

/** niivue's colormap object for setDrawColormap: 256 entries, 0 transparent. */
export interface DrawColormap {
  R: number[];
  G: number[];
  B: number[];
  A: number[];
  I: number[];
  labels: string[];
}

export function drawColormap(): DrawColormap {
  const map: DrawColormap = { R: [], G: [], B: [], A: [], I: [], labels: [] };
  for (let label = 0; label <= MAX_LABEL; label++) {
    const [r, g, b] = label === 0 ? [0, 0, 0] : labelColour(label);
    map.R.push(r);
    map.G.push(g);
    map.B.push(b);
    map.A.push(label === 0 ? 0 : 255);
    map.I.push(label);
    map.labels.push(label === 0 ? "" : `box ${label}`);
  }
  return map;
}

export function cssColour(label: number, alpha = 1): string {
  const [r, g, b] = labelColour(label);
  return alpha === 1 ? `rgb(${r} ${g} ${b})` : `rgb(${r} ${g} ${b} / ${alpha})`;
}
