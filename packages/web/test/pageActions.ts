/** Steps the browser test takes on the page, through the mouse, the controls and `window.__daft`. */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { expect } from "vitest";

interface PageBox {
  x0: number;
  y0: number;
  z0: number;
  x1: number;
  y1: number;
  z1: number;
}

export interface PageState {
  busy: boolean;
  segmentRuns: number;
  segmentError?: string;
  decodeWorkers: number;
  image?: { name: string; dimension: 2 | 3; width: number; height: number; depth: number };
  boxes: PageBox[];
  undoDepth: number;
  maskVoxels: number;
  result?: { fileName: string; expert: string; runtime: string; engineMs: number; outputBytes: number };
  lastExport?: { fileName: string; bytes: number };
}

export function pageState(page: Page): Promise<PageState> {
  return page.evaluate(() => (window as any).__daft.state());
}

/**
 * A whole-pixel client point (mouse events carry whole pixels) over voxel (x, y) on the axial view, checked two
 * ways: the page's mapping (what a box corner snaps to) and niivue's own canvas → voxel mapping both give (x, y).
 */
export async function aimAt(page: Page, x: number, y: number): Promise<[number, number]> {
  const centre = await page.evaluate(([vx, vy]) => (window as any).__daft.clientPointOfVoxel(vx, vy), [x, y]);
  expect(centre, `voxel (${x}, ${y}) is not on the axial view`).not.toBeNull();
  const point = [Math.round(centre[0]), Math.round(centre[1])] as [number, number];
  const [ours, niivue] = await page.evaluate(
    ([cx, cy]) => [(window as any).__daft.pageVoxelAt(cx, cy), (window as any).__daft.niivueVoxelAt(cx, cy)],
    point,
  );
  expect(ours, `the page maps client point ${point} to another voxel`).toEqual([x, y]);
  expect(niivue?.slice(0, 2), `niivue maps client point ${point} to another voxel`).toEqual([x, y]);
  return point;
}

/** Press at `from`, move in steps, release at `to` (left button). */
export async function dragBox(page: Page, from: [number, number], to: [number, number]): Promise<void> {
  await page.mouse.move(from[0], from[1]);
  await page.mouse.down();
  await page.mouse.move((from[0] + to[0]) / 2, (from[1] + to[1]) / 2, { steps: 4 });
  await page.mouse.move(to[0], to[1], { steps: 4 });
  await page.mouse.up();
}

/** Picks the execution mode, presses Segment and waits for the mask (or fails with the page's error line). */
export async function segmentWith(page: Page, mode: "wasm" | "webgpu" | "server") {
  await page.check(`input[name="mode"][value="${mode}"]`);
  const runs = (await pageState(page)).segmentRuns;
  await page.click("#segment-button");
  await page.waitForFunction((n) => (window as any).__daft.state().segmentRuns > n, runs, {
    timeout: 180_000,
  });
  const state = await pageState(page);
  if (state.segmentError) throw new Error(`segmentation failed on the page: ${state.segmentError}`);
  expect(state.maskVoxels).toBeGreaterThan(0);
  return state.result!;
}

/** Presses Export and returns the downloaded file. */
export async function exportDownload(
  page: Page,
  dir: string,
  button = "#export-button",
): Promise<{ name: string; bytes: Buffer }> {
  mkdirSync(dir, { recursive: true });
  const [download] = await Promise.all([page.waitForEvent("download"), page.click(button)]);
  const path = join(dir, download.suggestedFilename());
  await download.saveAs(path);
  return { name: download.suggestedFilename(), bytes: readFileSync(path) };
}

/**
 * Screenshot pixels tinted by a label colour over a grey image: the mask blends colour into grey, so the pixel's
 * channels order like the colour's, with a clear spread.
 */
export function tintedPixels(
  image: { data: ArrayLike<number>; width: number; height: number; channels: number },
  colour: [number, number, number],
): number {
  const order = [0, 1, 2].sort((a, b) => colour[b]! - colour[a]!);
  let count = 0;
  for (let p = 0; p < image.width * image.height; p++) {
    const px = [0, 1, 2].map((c) => image.data[p * image.channels + c]!);
    if (px[order[0]!]! - px[order[2]!]! > 40 && px[order[0]!]! >= px[order[1]!]!) count++;
  }
  return count;
}
