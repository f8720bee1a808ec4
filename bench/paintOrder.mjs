#!/usr/bin/env node
// The cost of ordering the boxes for painting (packages/core/src/pipeline/paintOrder.ts), in process (not a test):
// "inner" compares every pair of boxes, O(N²), once per case. Random 2D boxes on a 1000² image, median of 21.
//   npm run build && node bench/paintOrder.mjs
import { PaintOrder } from "../packages/core/dist/pipeline/paintOrder.js";

let seed = 1;
const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
for (const n of [241, 1000]) {
  const boxes = Array.from({ length: n }, () => {
    const x = Math.floor(random() * 900);
    const y = Math.floor(random() * 900);
    return [x, y, x + 5 + Math.floor(random() * 80), y + 5 + Math.floor(random() * 80)];
  });
  const times = [];
  for (let r = 0; r < 21; r++) {
    const started = performance.now();
    PaintOrder.of(boxes, "inner");
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  console.log(`${n} boxes: median ${times[10].toFixed(2)} ms`);
}
