import { describe, expect, it } from "vitest";
import { base64ToBytes, parseServerReply, segmentRequestBody } from "./serverClient.js";

const record = { case: "x.png", dimension: 2, shape: [2, 2], boxes: 1 };

describe("local server mode", () => {
  it("sends the boxes and overrides as the 'request' part and each file as a 'file' part", async () => {
    const files = [new File([Uint8Array.of(1)], "a.dcm"), new File([Uint8Array.of(2)], "b.dcm")];
    const form = segmentRequestBody(files, [[1, 2, 3, 4]], {
      modality: "CT",
      window: "lung",
      mirroring: "x",
      edges: "off",
    });
    expect(JSON.parse(form.get("request") as string)).toEqual({
      boxes: [[1, 2, 3, 4]],
      modality: "CT",
      window: "lung",
      mirroring: "x",
      edges: "off",
    });
    const parts = form.getAll("file") as File[];
    expect(parts.map((f) => f.name)).toEqual(["a.dcm", "b.dcm"]);
    expect([...new Uint8Array(await parts[1]!.arrayBuffer())]).toEqual([2]);
  });

  it("decodes the reply's base64 label map and tells npz from study outputs by name", () => {
    expect([...base64ToBytes(btoa(String.fromCharCode(0, 255, 7)))]).toEqual([0, 255, 7]);
    const png = parseServerReply({ fileName: "x.png", mediaType: "image/png", output: btoa("ab"), record });
    expect(png).toMatchObject({
      format: "study",
      extension: ".png",
      fileName: "x.png",
      runtime: "local server · onnxruntime-node",
    });
    expect([...png.output]).toEqual([97, 98]);
    expect(parseServerReply({ fileName: "c.npz", output: "", record })).toMatchObject({
      format: "npz",
      extension: "",
    });
    expect(parseServerReply({ fileName: "ct.nii.gz", output: "", record })).toMatchObject({
      extension: ".nii.gz",
    });
    expect(() => parseServerReply({ error: "x" })).toThrow(/lacks fileName, output or record/);
  });
});
