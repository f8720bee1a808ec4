import { describe, expect, it } from "vitest";
import { inputErrorLine } from "../testing/inputErrors.js";
import { parseBoxArgument, parseBoxesFile, parsePromptFile } from "./parseBoxes.js";
import { namesForBoxes, objectName, parseNamesArgument } from "./objectNames.js";

describe("--box", () => {
  it("4 or 6 numbers, commas or spaces, negatives and decimals", () => {
    expect(parseBoxArgument("10,20,30,40")).toEqual([10, 20, 30, 40]);
    expect(parseBoxArgument("-120.5, 3, 0, -80, 40.25, 12")).toEqual([-120.5, 3, 0, -80, 40.25, 12]);
    expect(parseBoxArgument("1 2 3 4")).toEqual([1, 2, 3, 4]);
  });

  it("anything else is one clear line", () => {
    for (const bad of ["1,2,3", "1,2,3,4,5", "1,2,x,4", "", "1,2,3,4,5,6,7", "1,2,Infinity,4"]) {
      expect(inputErrorLine(() => parseBoxArgument(bad))).toMatch(/^--box ".*" needs 4 numbers .* or 6/);
    }
  });
});

describe("boxes files", () => {
  it("JSON: a list of boxes or {boxes: [...]}", () => {
    expect(parseBoxesFile("[[1,2,3,4],[5,6,7,8]]", "b.json")).toEqual([
      [1, 2, 3, 4],
      [5, 6, 7, 8],
    ]);
    expect(parseBoxesFile('{"boxes": [[1,2,3,4,5,6]], "note": "x"}', "b.json")).toEqual([[1, 2, 3, 4, 5, 6]]);
  });

  it("CSV: optional header, comments, blank lines, commas/semicolons/tabs", () => {
    const text = "# my boxes\nx0,y0,x1,y1\n1,2,3,4\n\n5;6;7;8  # second\n9\t10\t11\t12\n";
    expect(parseBoxesFile(text, "b.csv")).toEqual([
      [1, 2, 3, 4],
      [5, 6, 7, 8],
      [9, 10, 11, 12],
    ]);
  });

  it("errors name the file and what is wrong", () => {
    expect(inputErrorLine(() => parseBoxesFile("[[1,2,3]]", "b.json"))).toMatch(
      /^b\.json: box 0 \[1,2,3\] is not 4 numbers/,
    );
    expect(inputErrorLine(() => parseBoxesFile("[[1,2,3,4", "b.json"))).toMatch(/^b\.json: not valid JSON/);
    expect(inputErrorLine(() => parseBoxesFile('{"rects": []}', "b.json"))).toMatch(
      /^b\.json: JSON must be a list/,
    );
    expect(inputErrorLine(() => parseBoxesFile("[]", "b.json"))).toBe("b.json: holds no boxes");
    expect(inputErrorLine(() => parseBoxesFile("[[1,2,3,4],[1,2,3,4,5,6]]", "b.json"))).toMatch(
      /mixed 2D and 3D/,
    );
    expect(inputErrorLine(() => parseBoxesFile("1,2,3,4\nx0,y0,x1,y1\n", "b.csv"))).toMatch(
      /^b\.csv: line 2 "x0,y0,x1,y1" is not/,
    );
    expect(inputErrorLine(() => parseBoxesFile("1,2,3,4\n1,2,three,4\n", "b.csv"))).toMatch(
      /^b\.csv: line 2/,
    );
    expect(inputErrorLine(() => parseBoxesFile("\u0000\u0001garbage", "b.csv"))).toMatch(/^b\.csv: line 1/);
  });
});

describe("object names", () => {
  it("a boxes JSON object may name its boxes, one name per box", () => {
    expect(parsePromptFile('{"boxes": [[1,2,3,4],[5,6,7,8]], "names": [" disc ", "cup"]}', "b.json")).toEqual(
      {
        boxes: [
          [1, 2, 3, 4],
          [5, 6, 7, 8],
        ],
        names: ["disc", "cup"],
      },
    );
    expect(parsePromptFile("[[1,2,3,4]]", "b.json")).toEqual({ boxes: [[1, 2, 3, 4]] });
    expect(
      inputErrorLine(() => parsePromptFile('{"boxes": [[1,2,3,4]], "names": ["a", "b"]}', "b.json")),
    ).toBe("b.json: 2 object name(s) for 1 box(es): give one name per box, in box order");
    expect(inputErrorLine(() => parsePromptFile('{"boxes": [[1,2,3,4]], "names": "a"}', "b.json"))).toBe(
      'b.json: "names" must be a list of strings, one per box',
    );
    expect(inputErrorLine(() => parsePromptFile('{"boxes": [[1,2,3,4]], "names": [7]}', "b.json"))).toBe(
      "b.json: name 0 is not a string: 7",
    );
  });

  it("--names: comma-separated, trimmed; 1–64 printable ASCII characters without \\, commas or quotes", () => {
    expect(parseNamesArgument("left lung, right lung")).toEqual(["left lung", "right lung"]);
    expect(inputErrorLine(() => parseNamesArgument("a,,b"))).toBe("--names: name 2 is empty");
    expect(inputErrorLine(() => parseNamesArgument("x".repeat(65)))).toMatch(/longer than 64 characters$/);
    expect(inputErrorLine(() => parseNamesArgument("a\\b"))).toBe(
      '--names: name 1 "a\\\\b": a name is printable ASCII without \\ , or "',
    );
    // A control character or a letter beyond ASCII; the line stays one line (the name is shown escaped).
    expect(inputErrorLine(() => parseNamesArgument("new\nline"))).toBe(
      '--names: name 1 "new\\nline": a name is printable ASCII without \\ , or "',
    );
    expect(inputErrorLine(() => parseNamesArgument("Läsion"))).toMatch(
      /^--names: name 1 "Läsion": a name is printable ASCII/,
    );
  });

  it("names must match the boxes and be distinct; a label without a name is box <n>", () => {
    expect(namesForBoxes(["a", "b"], 2)).toEqual(["a", "b"]);
    expect(inputErrorLine(() => namesForBoxes(["a", "a"], 2))).toBe(
      'boxes 1 and 2 are both named "a": each label needs its own name',
    );
    expect(objectName(["a", "b"], 2)).toBe("b");
    expect(objectName(undefined, 3)).toBe("box 3");
  });
});
