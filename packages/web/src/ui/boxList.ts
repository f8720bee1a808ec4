/**
 * The box list: colour, number, voxel coordinates, editable name and slice range (3D), the mask's confidence after a run
 * (the least confident tenth marked "check", as the README's triage measures it), delete; click selects a box.
 */
import type { VoxelBox } from "../model/editHistory.js";
import { cssColour } from "../model/palette.js";

export interface BoxListEvents {
  select(index: number): void;
  remove(index: number): void;
  setZRange(index: number, z0: number, z1: number): void;
  rename(index: number, name: string): void;
}

export function renderBoxList(
  list: HTMLOListElement,
  boxes: readonly VoxelBox[],
  dimension: 2 | 3,
  selected: number,
  events: BoxListEvents,
  /** Per box, the last run's mask confidence (record.confidence), when the boxes are still those it segmented. */
  confidence?: readonly (number | null)[],
): void {
  const toCheck = leastConfident(confidence ?? []);
  list.replaceChildren(
    ...boxes.map((box, index) => {
      const item = document.createElement("li");
      item.classList.toggle("selected", index === selected);
      item.dataset["label"] = String(index + 1);
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = cssColour(index + 1);
      const coords = document.createElement("span");
      coords.className = "coords";
      coords.textContent = `#${index + 1}  x ${box.x0}–${box.x1}  y ${box.y0}–${box.y1}`;
      coords.title = "Select (the brush paints the selected box's label)";
      coords.onclick = () => events.select(index);
      const name = document.createElement("input");
      name.type = "text";
      name.className = "name";
      name.maxLength = 64;
      name.placeholder = `box ${index + 1}`;
      name.value = box.name ?? "";
      name.title = "The object's name: the segment's name in the DICOM-SEG and Slicer exports";
      name.onchange = () => events.rename(index, name.value);
      item.append(swatch, coords, name);
      if (dimension === 3) {
        const z0 = numberInput(box.z0, "first slice");
        const z1 = numberInput(box.z1, "last slice");
        const change = () => events.setZRange(index, Number(z0.value), Number(z1.value));
        z0.onchange = change;
        z1.onchange = change;
        const range = document.createElement("span");
        range.className = "slice-range"; // kept on one line when the row wraps
        range.append("z", z0, "–", z1);
        item.append(range);
      }
      const c = confidence?.[index];
      if (c !== undefined && c !== null) {
        const badge = document.createElement("span");
        badge.className = toCheck.has(index) ? "confidence check" : "confidence";
        badge.textContent = toCheck.has(index) ? `${c.toFixed(2)} check` : c.toFixed(2);
        badge.title =
          "Mask confidence: the share of sure pixels among sure and doubtful ones, in the part of the mask " +
          "the masks above it leave visible (0–1); " +
          "the least confident tenth of the boxes is marked: look at those first";
        item.append(badge);
      }
      const remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = "✕";
      remove.title = `Delete box ${index + 1} and its mask`;
      remove.onclick = () => events.remove(index);
      item.append(remove);
      return item;
    }),
  );
}

/** The indices of the least confident tenth of the scored boxes (at least one when two or more are scored). */
export function leastConfident(confidence: readonly (number | null)[]): Set<number> {
  const scored = confidence.flatMap((c, i) => (c === null ? [] : [{ c, i }]));
  if (scored.length < 2) return new Set();
  const count = Math.max(1, Math.round(scored.length / 10));
  return new Set(
    scored
      .sort((a, b) => a.c - b.c || a.i - b.i)
      .slice(0, count)
      .map((s) => s.i),
  );
}

function numberInput(value: number, title: string): HTMLInputElement {
  const input = document.createElement("input");
  input.type = "number";
  input.min = "0";
  input.value = String(value);
  input.title = title;
  return input;
}
