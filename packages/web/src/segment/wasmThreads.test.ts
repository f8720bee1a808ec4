import { describe, expect, it } from "vitest";
import { wasmThreads } from "./wasmThreads.js";

describe("wasmThreads", () => {
  it("puts one-thread sessions side by side on any page, and gives a session more threads only when isolated", () => {
    expect(wasmThreads(false, 1)).toEqual({ sessions: 1, threads: 1 });
    expect(wasmThreads(false, 2)).toEqual({ sessions: 2, threads: 1 });
    expect(wasmThreads(true, 2)).toEqual({ sessions: 2, threads: 1 });
    expect(wasmThreads(false, 8)).toEqual({ sessions: 4, threads: 1 });
    expect(wasmThreads(true, 8)).toEqual({ sessions: 4, threads: 2 });
  });
});
