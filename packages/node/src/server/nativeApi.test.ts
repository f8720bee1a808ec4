/**
 * The native JSON API through the handler (no sockets), with oracle experts whose right answer is known.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decode as decodePng } from "fast-png";
import { gunzipSync } from "fflate";
import { readDicom, readNifti, readNrrd, SEGMENTATION_STORAGE } from "@daft/core";
import { syntheticCtSeries } from "../../../core/src/testing/dicomSeries.js";
import { HealthSchema, SegmentResponseSchema } from "./schemas.js";
import {
  BASE,
  case2d,
  segsOf,
  directSegment,
  multipartRequest,
  paintedBoxes,
  serverFixture,
  type ServerFixture,
} from "./testFixture.js";

const repo = join(import.meta.dirname, "../../../..");
let fx: ServerFixture;
beforeAll(async () => {
  fx = await serverFixture();
});
afterAll(() => fx.cleanup());

async function segment(fields: Record<string, unknown> | string, files: [string, Uint8Array][]) {
  const request = typeof fields === "string" ? fields : JSON.stringify(fields);
  return fx.handler(
    multipartRequest(
      "/api/v1/segment",
      { request },
      files.map(([name, bytes]) => ["file", name, bytes]),
    ),
  );
}

/** A 2D case of `boxes` segmented with `fields` (200 expected): the response body, parsed. */
async function segmentedCase(boxes: number[][], fields: Record<string, unknown>) {
  const response = await segment({ boxes, ...fields }, [["case.npz", case2d(256, 256, boxes)]]);
  expect(response.status).toBe(200);
  return SegmentResponseSchema.parse(await response.json());
}

async function errorOf(response: Response): Promise<string> {
  expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  const body = (await response.json()) as { error: string };
  expect(Object.keys(body)).toEqual(["error"]);
  expect(body.error).not.toMatch(/\n/);
  return body.error;
}

describe("GET /api/v1/health", () => {
  it("answers ok, the version and the models folder, with the cross-origin isolation headers", async () => {
    const response = await fx.handler(new Request(`${BASE}/api/v1/health`));
    expect(response.status).toBe(200);
    expect(HealthSchema.parse(await response.json())).toEqual({
      ok: true,
      version: "0.1.0",
      models: fx.modelsDir,
    });
    expect(response.headers.get("cross-origin-opener-policy")).toBe("same-origin");
    expect(response.headers.get("cross-origin-embedder-policy")).toBe("require-corp");
    expect(response.headers.get("cross-origin-resource-policy")).toBe("same-origin");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("answers HEAD without a body and refuses POST with 405 and Allow", async () => {
    const head = await fx.handler(new Request(`${BASE}/api/v1/health`, { method: "HEAD" }));
    expect(head.status).toBe(200);
    expect(head.body).toBeNull();
    const post = await fx.handler(new Request(`${BASE}/api/v1/health`, { method: "POST" }));
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
    expect(await errorOf(post)).toMatch(/method POST not allowed/);
  });
});

describe("POST /api/v1/segment", () => {
  it("segments an .npz with given boxes: same file name as the CLI, the oracle's exact labels, a valid record", async () => {
    const boxes = [
      [10, 20, 100, 90],
      [50, 60, 120, 110],
    ];
    const response = await segment({ boxes }, [
      ["2DBox_Endoscopy_demo.npz", case2d(256, 256, [[0, 0, 5, 5]])],
    ]);
    expect(response.status).toBe(200);
    const body = SegmentResponseSchema.parse(await response.json());
    expect(body.fileName).toBe("2DBox_Endoscopy_demo.npz");
    expect(body.mediaType).toBe("application/zip");
    const segs = segsOf(body.output);
    expect(segs.shape).toEqual([256, 256]);
    expect(Array.from(segs.labels)).toEqual(Array.from(paintedBoxes(256, 256, boxes)));
    expect(body.record).toMatchObject({ case: "2DBox_Endoscopy_demo.npz", dimension: 2, boxes: 2 });
    expect(body.record.route).toMatchObject({ expert: "general", rule: "filename", modality: "Endoscopy" });
  });

  it("uses an .npz case's own boxes when the request gives none", async () => {
    const own = [[3, 4, 30, 40]];
    const response = await segment({}, [["case.npz", case2d(256, 256, own)]]);
    expect(response.status).toBe(200);
    const body = SegmentResponseSchema.parse(await response.json());
    expect(Array.from(segsOf(body.output).labels)).toEqual(Array.from(paintedBoxes(256, 256, own)));
  });

  it("honours expert and modality: XRay (bright pixels in the box) only when asked", async () => {
    const forced = await segment({ boxes: [[0, 0, 63, 63]], expert: "XRay" }, [
      ["case.npz", case2d(64, 64, [[0, 0, 1, 1]])],
    ]);
    expect(forced.status).toBe(200);
    const record = SegmentResponseSchema.parse(await forced.json()).record;
    expect(record.route).toMatchObject({ expert: "XRay", rule: "explicit-expert" });
    const byModality = await segment({ boxes: [[0, 0, 63, 63]], modality: "XRay" }, [
      ["case.npz", case2d(64, 64, [[0, 0, 1, 1]])],
    ]);
    expect(SegmentResponseSchema.parse(await byModality.json()).record.route).toMatchObject({
      expert: "XRay",
      rule: "explicit-modality",
    });
  });

  it("takes a mirroring choice (the box oracle is mirror-symmetric: same labels) and refuses an unknown one", async () => {
    const boxes = [[10, 20, 100, 90]];
    const mirrored = await segment({ boxes, mirroring: "xy" }, [["case.npz", case2d(256, 256, boxes)]]);
    expect(mirrored.status).toBe(200);
    const body = SegmentResponseSchema.parse(await mirrored.json());
    expect(Array.from(segsOf(body.output).labels)).toEqual(Array.from(paintedBoxes(256, 256, boxes)));
    const bad = await segment({ boxes, mirroring: "z" }, [["case.npz", case2d(256, 256, boxes)]]);
    expect(bad.status).toBe(400);
    expect(await errorOf(bad)).toMatch(/^request: mirroring/);
  });

  it("takes an overlaps choice: an inner box given first stays on top unless later boxes are asked on top", async () => {
    const boxes = [
      [20, 20, 30, 30],
      [10, 10, 50, 50],
    ];
    const labelsOf = async (fields: Record<string, unknown>) =>
      Array.from(segsOf((await segmentedCase(boxes, fields)).output).labels);
    const innerOnTop = Array.from(paintedBoxes(256, 256, [boxes[1]!, boxes[0]!]), (l) => (l ? 3 - l : 0));
    expect(await labelsOf({})).toEqual(innerOnTop);
    expect(await labelsOf({ overlaps: "inner" })).toEqual(innerOnTop);
    expect(await labelsOf({ overlaps: "later" })).toEqual(Array.from(paintedBoxes(256, 256, boxes)));
    const bad = await segment({ boxes, overlaps: "top" }, [["case.npz", case2d(256, 256, boxes)]]);
    expect(bad.status).toBe(400);
    expect(await errorOf(bad)).toMatch(/^request: overlaps/);
  });

  it("takes an edges choice: off keeps the bilinear masks, a bad value is a 400 naming the field", async () => {
    const boxes = [[10, 20, 100, 90]];
    const off = await segment({ boxes, edges: "off" }, [["case.npz", case2d(256, 256, boxes)]]);
    expect(off.status).toBe(200);
    const body = SegmentResponseSchema.parse(await off.json());
    expect(Array.from(segsOf(body.output).labels)).toEqual(Array.from(paintedBoxes(256, 256, boxes)));
    const refined = await segment({ boxes, edges: "2,0.001" }, [["case.npz", case2d(256, 256, boxes)]]);
    expect(refined.status).toBe(200);
    for (const edges of ["3", "0,0.1", 3]) {
      const bad = await segment({ boxes, edges }, [["case.npz", case2d(256, 256, boxes)]]);
      expect(bad.status).toBe(400);
      expect(await errorOf(bad)).toMatch(/^request: edges/);
    }
  });

  it("takes a clipToBox choice: false paints and scores masks as the model outputs them; not a boolean is a 400", async () => {
    // The box oracle's masks are their boxes: the labels do not move, but box 1's mask confidence does, since
    // box 2's doubtful ring just outside its box only covers box 1 when masks are not clipped (monaiApi.test.ts).
    const boxes = [
      [10, 20, 100, 90],
      [50, 60, 200, 250],
    ];
    const confidenceOf = async (fields: Record<string, unknown>) => {
      const body = await segmentedCase(boxes, fields);
      expect(Array.from(segsOf(body.output).labels)).toEqual(Array.from(paintedBoxes(256, 256, boxes)));
      return body.record.confidence[0];
    };
    expect(await confidenceOf({})).toBeCloseTo(4641 / (4641 + 648 * (1 - 79 / 320) + 79), 6);
    expect(await confidenceOf({ clipToBox: false })).toBeCloseTo(4560 / (4560 + 648), 6);
    const bad = await segment({ boxes, clipToBox: "no" }, [["case.npz", case2d(256, 256, boxes)]]);
    expect(bad.status).toBe(400);
    expect(await errorOf(bad)).toMatch(/^request: clipToBox/);
  });

  it("takes the objects' names: the record lists them; a count that does not match the boxes is a 400", async () => {
    const boxes = [
      [10, 20, 100, 90],
      [50, 60, 200, 250],
    ];
    const named = await segment({ boxes, names: ["disc", "cup"] }, [["case.npz", case2d(256, 256, boxes)]]);
    expect(named.status).toBe(200);
    expect(SegmentResponseSchema.parse(await named.json()).record.names).toEqual(["disc", "cup"]);
    const few = await segment({ boxes, names: ["disc"] }, [["case.npz", case2d(256, 256, boxes)]]);
    expect(few.status).toBe(400);
    expect(await errorOf(few)).toBe(
      "case.npz: 1 object name(s) for 2 box(es): give one name per box, in box order",
    );
  });

  it("segments a NIfTI volume: the label map keeps the input's name, header and geometry", async () => {
    const bytes = readFileSync(join(repo, "fixtures/formats/nifti1_oblique_int16.nii.gz"));
    const response = await segment({ boxes: [[1, 1, 1, 4, 3, 3]] }, [["nifti1_oblique_int16.nii.gz", bytes]]);
    expect(response.status).toBe(200);
    const body = SegmentResponseSchema.parse(await response.json());
    expect(body.fileName).toBe("nifti1_oblique_int16.nii.gz");
    expect(body.mediaType).toBe("application/gzip");
    const labels = readNifti(gunzipSync(Buffer.from(body.output, "base64")), body.fileName);
    const input = readNifti(gunzipSync(bytes), "input");
    expect(labels.dims).toEqual(input.dims);
    expect(labels.affine).toEqual(input.affine);
    const direct = await directSegment(
      fx.store,
      { kind: "file", name: "nifti1_oblique_int16.nii.gz", bytes },
      { boxes: [[1, 1, 1, 4, 3, 3]], world: false },
    );
    expect(Buffer.from(body.output, "base64").equals(Buffer.from(direct.output))).toBe(true);
    expect(labels.data.some((v) => v === 1)).toBe(true);
    expect(body.record).toMatchObject({ dimension: 3, boxes: 1, slices: 3 });
  });

  it("segments a picture into <stem>.png and a DICOM series sent as several files into <folder>.nii.gz", async () => {
    const png = await segment({ boxes: [[0, 0, 2, 1]] }, [
      ["grey16.png", readFileSync(join(repo, "fixtures/formats/grey16.png"))],
    ]);
    expect(png.status).toBe(200);
    const pngBody = SegmentResponseSchema.parse(await png.json());
    expect(pngBody.fileName).toBe("grey16.png");
    expect(pngBody.mediaType).toBe("image/png");
    const picture = decodePng(Buffer.from(pngBody.output, "base64"));
    expect(picture.data.some((v) => v === 1)).toBe(true);
    const direct = await directSegment(
      fx.store,
      { kind: "file", name: "grey16.png", bytes: readFileSync(join(repo, "fixtures/formats/grey16.png")) },
      { boxes: [[0, 0, 2, 1]], world: false },
    );
    expect(Buffer.from(pngBody.output, "base64").equals(Buffer.from(direct.output))).toBe(true);

    const seriesDir = join(repo, "fixtures/formats/ct_series");
    const files = readdirSync(seriesDir)
      .filter((n) => /^IM\d$/.test(n))
      .map((n): [string, Uint8Array] => [`ct_series/${n}`, readFileSync(join(seriesDir, n))]);
    const series = await segment({ boxes: [[0, 0, 0, 1, 1, 1]] }, files);
    expect(series.status).toBe(200);
    const seriesBody = SegmentResponseSchema.parse(await series.json());
    expect(seriesBody.fileName).toBe("ct_series.nii.gz");
    expect(seriesBody.record.route).toMatchObject({ expert: "CT", rule: "metadata" });
  });
});

describe("POST /api/v1/segment with dicomSeg", () => {
  const series = (withFrameOfReference = true) =>
    syntheticCtSeries(withFrameOfReference).map(({ name, bytes }): [string, Uint8Array] => [
      `ct/${name}`,
      bytes,
    ]);

  it("returns the DICOM-SEG beside the label map: <series>.seg.dcm in the source's study, the expert named", async () => {
    const response = await segment({ boxes: [[0, 0, 0, 1, 1, 1]], dicomSeg: true }, series());
    expect(response.status).toBe(200);
    const body = SegmentResponseSchema.parse(await response.json());
    expect(body.fileName).toBe("ct.nii.gz");
    const seg = body.dicomSeg;
    if (!seg || !("output" in seg)) throw new Error(`no SEG: ${JSON.stringify(seg)}`);
    expect(seg).toMatchObject({
      fileName: "ct.seg.dcm",
      mediaType: "application/dicom",
      segments: 1,
      frames: 2,
    });
    const bytes = Buffer.from(seg.output, "base64");
    const file = readDicom(bytes, "seg");
    expect(file.mediaStorageSOPClassUID).toBe(SEGMENTATION_STORAGE);
    expect(file.tags.studyInstanceUID).toBe("1.2.826.0.1.3680043.8.498.77");
    const text = bytes.toString("latin1");
    expect(text).toContain(`DAFT ${body.record.route.expert}`);
    expect(text).toContain("daft serve");
  });

  it("says why no SEG for an empty label map; 400 for a non-DICOM input or a series without a Frame of Reference", async () => {
    const empty = await segment({ boxes: [[0, 0, 0, 1, 1, 1]], dicomSeg: true, expert: "XRay" }, series());
    expect(empty.status).toBe(200);
    expect(SegmentResponseSchema.parse(await empty.json()).dicomSeg).toEqual({
      skipped: expect.stringMatching(/no voxel|empty/),
    });
    const npz = await segment({ boxes: [[0, 0, 4, 4]], dicomSeg: true }, [
      ["a.npz", case2d(32, 32, [[0, 0, 4, 4]])],
    ]);
    expect(npz.status).toBe(400);
    expect(await errorOf(npz)).toMatch(/^a\.npz: a DICOM-SEG .* refers to DICOM source images/);
    const noFrame = await segment({ boxes: [[0, 0, 0, 1, 1, 1]], dicomSeg: true }, series(false));
    expect(noFrame.status).toBe(400);
    expect(await errorOf(noFrame)).toMatch(/FrameOfReferenceUID/);
  });
});

describe("POST /api/v1/segment with slicerSeg", () => {
  it("returns <stem>.seg.nrrd: the label map's voxels in LPS with one segment per box, for DICOM and .npz alike", async () => {
    const series = syntheticCtSeries(true).map(({ name, bytes }): [string, Uint8Array] => [
      `ct/${name}`,
      bytes,
    ]);
    const response = await segment({ boxes: [[0, 0, 0, 1, 1, 1]], slicerSeg: true }, series);
    expect(response.status).toBe(200);
    const body = SegmentResponseSchema.parse(await response.json());
    expect(body.slicerSeg).toMatchObject({
      fileName: "ct.seg.nrrd",
      mediaType: "application/octet-stream",
      segments: 1,
    });
    const nifti = readNifti(Buffer.from(body.output, "base64"), "ct.nii.gz");
    const seg = readNrrd(Buffer.from(body.slicerSeg!.output, "base64"), "ct.seg.nrrd");
    expect(seg.sizes).toEqual(nifti.dims);
    expect(Array.from(seg.data)).toEqual(Array.from(nifti.data));
    expect(seg.data.some((v) => v === 1)).toBe(true);
    expect(seg.space).toBe("left-posterior-superior");
    // The NIfTI label map's RAS affine, its x and y negated (NIfTI stores it in float32).
    const lps = [0, 1, 2].map((r) => nifti.affine[r]!.map((v) => (r < 2 ? -v : v)));
    seg.spaceDirections!.forEach((d, c) => d!.forEach((v, r) => expect(v).toBeCloseTo(lps[r]![c]!, 4)));
    seg.spaceOrigin!.forEach((v, r) => expect(v).toBeCloseTo(lps[r]![3]!, 4));
    expect(new Map(seg.keyValues).get("Segment0_Name")).toBe("box 1");

    const npz = await segment(
      {
        boxes: [
          [0, 0, 4, 4],
          [10, 10, 20, 20],
        ],
        slicerSeg: true,
      },
      [["a.npz", case2d(32, 32, [[0, 0, 4, 4]])]],
    );
    expect(npz.status).toBe(200);
    const npzBody = SegmentResponseSchema.parse(await npz.json());
    expect(npzBody.slicerSeg).toMatchObject({ fileName: "a.seg.nrrd", segments: 2 });
    const flat = readNrrd(Buffer.from(npzBody.slicerSeg!.output, "base64"), "a.seg.nrrd");
    expect(flat.sizes).toEqual([32, 32, 1]);
    expect(Array.from(flat.data)).toEqual(Array.from(segsOf(npzBody.output).labels));
  });
});

describe("POST /api/v1/segment refuses bad requests with one clear line", () => {
  const npz = case2d(32, 32, [[0, 0, 4, 4]]);

  it("400 for no file, a text part instead of a file, bad JSON, and a request that breaks the schema", async () => {
    expect(await errorOf(await segment({ boxes: [[0, 0, 1, 1]] }, []))).toBe(
      "file: no file part in the upload",
    );
    const textAsFile = await fx.handler(
      multipartRequest("/api/v1/segment", { request: "{}", file: "not a file" }, []),
    );
    expect(textAsFile.status).toBe(400);
    expect(await errorOf(textAsFile)).toBe("file: must be a file upload, not a text field");
    const badJson = await segment("{boxes: [[0,0,1,1]]", [["case.npz", npz]]);
    expect(badJson.status).toBe(400);
    expect(await errorOf(badJson)).toMatch(/^request: not valid JSON/);
    const fiveNumbers = await segment({ boxes: [[0, 0, 1, 1, 1]] }, [["case.npz", npz]]);
    expect(fiveNumbers.status).toBe(400);
    expect(await errorOf(fiveNumbers)).toMatch(/^request: boxes\.0: a box is 4 numbers/);
    const mixed = await segment(
      {
        boxes: [
          [0, 0, 1, 1],
          [0, 0, 0, 1, 1, 1],
        ],
      },
      [["case.npz", npz]],
    );
    expect(await errorOf(mixed)).toMatch(/mixed 2D .* and 3D/);
    const unknownKey = await segment({ boxes: [[0, 0, 1, 1]], box: [0, 0, 1, 1] }, [["case.npz", npz]]);
    expect(unknownKey.status).toBe(400);
    expect(await errorOf(unknownKey)).toMatch(/^request: .*box/);
    const world = await segment({ world: true }, [["case.npz", npz]]);
    expect(await errorOf(world)).toBe("request: world applies to boxes; give boxes");
  });

  it("400 naming the file for a truncated .npz, a box outside the image, world boxes on an .npz", async () => {
    const truncated = await segment({ boxes: [[0, 0, 1, 1]] }, [
      ["cut.npz", npz.subarray(0, npz.length - 40)],
    ]);
    expect(truncated.status).toBe(400);
    expect(await errorOf(truncated)).toMatch(/^cut\.npz: /);
    const outside = await segment({ boxes: [[0, 0, 100, 100]] }, [["case.npz", npz]]);
    expect(outside.status).toBe(400);
    expect(await errorOf(outside)).toMatch(/^case\.npz: .*box/);
    const world = await segment({ boxes: [[0, 0, 1, 1, 1, 1]], world: true }, [["case.npz", npz]]);
    expect(world.status).toBe(400);
    expect(await errorOf(world)).toMatch(/^case\.npz: world needs an input placed in patient space/);
    const nifti = readFileSync(join(repo, "fixtures/formats/nifti1_oblique_int16.nii.gz"));
    const noBoxes = await segment({}, [["ct.nii.gz", nifti]]);
    expect(noBoxes.status).toBe(400);
    expect(await errorOf(noBoxes)).toMatch(
      /^ct\.nii\.gz: has no box prompts \(only \.npz cases carry their own boxes\); give boxes/,
    );
    const garbage = await segment({ boxes: [[0, 0, 1, 1]] }, [
      ["notes.txt", new TextEncoder().encode("hello")],
    ]);
    expect(garbage.status).toBe(400);
    expect(await errorOf(garbage)).toMatch(/^notes\.txt: /);
  });

  it("400 past the boxes limit, 404 for an unknown expert, 400 for a bad CT window", async () => {
    const many = Array.from({ length: 1001 }, () => [0, 0, 1, 1]);
    const tooMany = await segment({ boxes: many }, [["case.npz", npz]]);
    expect(tooMany.status).toBe(400);
    expect(await errorOf(tooMany)).toBe("request: boxes: at most 1000 boxes per request");
    const expert = await segment({ boxes: [[0, 0, 1, 1]], expert: "Nope" }, [["case.npz", npz]]);
    expect(expert.status).toBe(404);
    expect(await errorOf(expert)).toBe('expert "Nope": not in the manifest (available: general, CT, XRay)');
    const window = await segment({ boxes: [[0, 0, 1, 1]], window: "wide" }, [["case.npz", npz]]);
    expect(window.status).toBe(400);
    expect(await errorOf(window)).toMatch(/^request: window "wide" is neither a preset/);
  });

  it("415 for a body that is not multipart; 400 for a multipart body cut short", async () => {
    const json = await fx.handler(
      new Request(`${BASE}/api/v1/segment`, {
        method: "POST",
        body: "{}",
        headers: { "content-type": "application/json" },
      }),
    );
    expect(json.status).toBe(415);
    expect(await errorOf(json)).toBe(
      'request: Content-Type must be multipart/form-data with a boundary, got "application/json"',
    );
    const whole = multipartRequest("/api/v1/segment", { request: "{}" }, [["file", "case.npz", npz]]);
    const bytes = new Uint8Array(await whole.arrayBuffer());
    const cut = await fx.handler(
      new Request(`${BASE}/api/v1/segment`, {
        method: "POST",
        body: bytes.subarray(0, bytes.length - 100),
        headers: { "content-type": whole.headers.get("content-type")! },
      }),
    );
    expect(cut.status).toBe(400);
    expect(await errorOf(cut)).toMatch(/^request: malformed multipart\/form-data body/);
  });
});
