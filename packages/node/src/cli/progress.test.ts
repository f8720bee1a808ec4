import { describe, expect, it } from "vitest";
import { formatSeconds, Progress } from "./progress.js";

/** A stream that records writes; isTTY as given. */
function stream(isTTY: boolean) {
  const writes: string[] = [];
  const s = { isTTY, write: (chunk: string) => (writes.push(chunk), true) };
  return { s: s as unknown as NodeJS.WriteStream, writes };
}

describe("Progress", () => {
  it("writes the first item, then one line per 10 s at most, and the last, into a log", () => {
    let t = 0;
    const { s, writes } = stream(false);
    const p = new Progress(5, "eval", s, true, () => t);
    for (const [time, item] of [
      [1_000, "a"],
      [5_000, "b"],
      [11_500, "c"],
      [12_000, "d"],
      [13_000, "e"],
    ] as const) {
      t = time;
      p.tick(item);
    }
    expect(writes).toEqual([
      "eval [#####-------------------] 1/5 20% ETA 0:04 a\n",
      "eval [##############----------] 3/5 60% ETA 0:08 c\n",
      "eval [########################] 5/5 100% ETA 0:00 e\n",
    ]);
  });

  it("redraws every item on a terminal and ends the line at the last", () => {
    const { s, writes } = stream(true);
    const p = new Progress(2, "segment", s, true, () => 0);
    p.tick("x");
    p.tick("y");
    expect(writes).toHaveLength(2);
    expect(writes[0]).toMatch(/^\r\x1b\[Ksegment .* 1\/2 50% .* x$/);
    expect(writes[1]).toMatch(/ 2\/2 100% .* y\n$/);
  });

  it("formats seconds as m:ss and hours as XhYYm", () => {
    expect(formatSeconds(75.4)).toBe("1:15");
    expect(formatSeconds(3 * 3600 + 5 * 60)).toBe("3h05m");
  });
});
