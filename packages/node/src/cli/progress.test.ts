import { describe, expect, it } from "vitest";
import { CaseProgress, formatSeconds, Progress } from "./progress.js";

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

describe("CaseProgress (one long input's own parts)", () => {
  it("draws on a terminal once the case has taken a second, at most every 100 ms and the last, ETA from the start", () => {
    let t = 0;
    const { s, writes } = stream(true);
    const p = new CaseProgress("segment ct.npz", s, () => t);
    t = 500;
    p.update(1, 10); // too early
    t = 2_000;
    p.update(2, 10); // drawn: 2 of 10 in 2 s
    t = 2_050;
    p.update(3, 10); // within 100 ms of the last drawing
    t = 2_200;
    p.update(4, 10);
    t = 2_210;
    p.update(10, 10); // the last, always
    expect(writes).toEqual([
      "\r\x1b[Ksegment ct.npz [#####-------------------] 2/10 20% ETA 0:08 ",
      "\r\x1b[Ksegment ct.npz [##########--------------] 4/10 40% ETA 0:03 ",
      "\r\x1b[Ksegment ct.npz [########################] 10/10 100% ETA 0:00 \n",
    ]);
  });

  it("stays silent for a quick case, and into a log file or pipe", () => {
    let t = 0;
    const quick = stream(true);
    const fast = new CaseProgress("segment a.npz", quick.s, () => t);
    t = 300;
    fast.update(1, 2);
    t = 1_500;
    fast.update(2, 2); // done before it was ever drawn: nothing
    const log = stream(false);
    const slow = new CaseProgress("segment b.npz", log.s, () => t);
    t = 5_000;
    slow.update(1, 2);
    slow.update(2, 2);
    expect([quick.writes, log.writes]).toEqual([[], []]);
  });

  it("ends a bar left half way with a line break when the case fails, and only then", () => {
    let t = 0;
    const { s, writes } = stream(true);
    const failed = new CaseProgress("segment ct.npz", s, () => t);
    t = 2_000;
    failed.update(3, 10);
    failed.end();
    failed.end();
    expect(writes.slice(1)).toEqual(["\n"]);
    const never = stream(true);
    new CaseProgress("segment a.npz", never.s, () => t).end(); // never drawn: nothing to end
    expect(never.writes).toEqual([]);
  });
});
