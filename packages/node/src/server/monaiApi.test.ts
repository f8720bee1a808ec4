/**
 * The MONAI Label endpoints through the handler: /info/, /infer/{model} (image, json, all; NIfTI and NRRD),
 * the in-memory datastore.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gunzipSync } from "fflate";
import { flipXY, readNifti, readNrrd, writeMetaImage, writeNrrd } from "@daft/core";
import { modelDimension } from "./monaiApi.js";
import {
  DatastoreAllSchema,
  DatastorePutSchema,
  DatastoreStatusSchema,
  InferResultSchema,
  InfoSchema,
} from "./schemas.js";
import {
  BASE,
  case2d,
  multipartRequest,
  paintedBoxes,
  segsOf,
  serverFixture,
  type ServerFixture,
} from "./testFixture.js";

const repo = join(import.meta.dirname, "../../../..");
const niftiBytes = readFileSync(join(repo, "fixtures/formats/nifti1_oblique_int16.nii.gz"));
let fx: ServerFixture;
beforeAll(async () => {
  fx = await serverFixture();
});
afterAll(() => fx.cleanup());

function infer(model: string, query: string, params: Record<string, unknown>, file?: [string, Uint8Array]) {
  return fx.handler(
    multipartRequest(
      `/infer/${model}${query}`,
      { params: JSON.stringify(params) },
      file ? [["file", ...file]] : [],
    ),
  );
}

/**
 * The .nii.gz /infer returns for `file` (the NIfTI fixture in another format) and for the fixture itself, with
 * the same boxes: their labels must agree.
 */
async function niftiResultBesideFixture(boxes: number[][], file: [string, Uint8Array]) {
  const read = async (response: Response, name: string) => {
    expect(response.status).toBe(200);
    return readNifti(gunzipSync(new Uint8Array(await response.arrayBuffer())), name);
  };
  const nifti = await read(await infer("daft", "?output=image", { boxes }, file), "result");
  const expected = await read(
    await infer("daft", "?output=image", { boxes }, ["nifti1_oblique_int16.nii.gz", niftiBytes]),
    "expected",
  );
  expect(Array.from(nifti.data)).toEqual(Array.from(expected.data));
  return { nifti, expected };
}

async function errorOf(response: Response): Promise<string> {
  return ((await response.json()) as { error: string }).error;
}

describe("GET /info/", () => {
  it("lists every expert of the manifest as a model, plus daft, with labels and dimension", async () => {
    for (const path of ["/info/", "/info"]) {
      const response = await fx.handler(new Request(`${BASE}${path}`));
      expect(response.status).toBe(200);
      const info = InfoSchema.parse(await response.json());
      expect(info.name).toBe("DAFT");
      expect(info.version).toBe("0.1.0");
      expect(Object.keys(info.models)).toEqual(["daft", "general", "CT", "XRay"]);
      expect(info.models["CT"]).toMatchObject({ type: "segmentation", dimension: 3, labels: { object: 1 } });
      expect(info.models["XRay"]!.dimension).toBe(2);
      expect(info.models["general"]!.dimension).toBe(3); // "*" serves volumes too
      expect(info.models["daft"]!.description).toMatch(/routes each image to its expert/);
      expect(info.labels).toEqual(["object"]);
      expect(info.datastore).toMatchObject({ total: expect.any(Number) });
    }
  });

  it("derives a model's dimension from its modalities", () => {
    expect(modelDimension({ modalities: ["MR"] })).toBe(3);
    expect(modelDimension({ modalities: ["PET", "US"] })).toBe(3);
    expect(modelDimension({ modalities: ["Dermoscopy", "Fundus"] })).toBe(2);
  });
});

describe("POST /infer/{model}", () => {
  const boxes = [
    [10, 20, 100, 90],
    [50, 60, 200, 250],
  ];
  const npz = case2d(256, 256, [[0, 0, 3, 3]]);

  it("output=json: the expert used, label names and latencies", async () => {
    const response = await infer("daft", "?output=json", { boxes }, ["2DBox_XRay_chest.npz", npz]);
    expect(response.status).toBe(200);
    const result = InferResultSchema.parse(await response.json());
    expect(result).toMatchObject({
      expert: "XRay",
      model: "daft",
      file: "2DBox_XRay_chest.nii.gz",
      label_names: { "box 1": 1, "box 2": 2 },
      route: { expert: "XRay", rule: "filename" },
    });
    expect(result.latencies.total).toBeGreaterThan(0);
    expect(result.latencies.total).toBeGreaterThanOrEqual(result.latencies.infer);
    // The XRay oracle segments bright pixels in the box; this image has none there: nothing is surely inside.
    expect(result.label_confidence).toEqual({ "box 1": 0, "box 2": 0 });
  });

  it("output=json with params.names: label_names and label_confidence by the objects' names", async () => {
    const named = await infer("daft", "?output=json", { boxes, names: ["left lung", "right lung"] }, [
      "2DBox_XRay_chest.npz",
      npz,
    ]);
    expect(named.status).toBe(200);
    const result = InferResultSchema.parse(await named.json());
    expect(result.label_names).toEqual({ "left lung": 1, "right lung": 2 });
    expect(result.label_confidence).toEqual({ "left lung": 0, "right lung": 0 });
    const bad = await infer("daft", "?output=json", { boxes, names: ["a\\b", "c"] }, ["case.npz", npz]);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toBe(
      'request: names[0] "a\\\\b": a name is printable ASCII without \\ , or "',
    );
  });

  it("output=image: a one-slice NIfTI label map of a 2D case, identical labels; an expert name forces that expert", async () => {
    const response = await infer("general", "?output=image", { boxes }, ["2DBox_XRay_chest.npz", npz]);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/gzip");
    expect(response.headers.get("content-disposition")).toMatch(
      /^attachment; filename="2DBox_XRay_chest\.nii\.gz"/,
    );
    const nifti = readNifti(gunzipSync(new Uint8Array(await response.arrayBuffer())), "result");
    expect(nifti.dims).toEqual([256, 256, 1]);
    expect(nifti.datatype).toBe("uint16");
    expect(Array.from(nifti.data)).toEqual(Array.from(paintedBoxes(256, 256, boxes)));
  });

  it("output=all (the default): multipart with a params JSON part and an image file part", async () => {
    const response = await infer("daft", "", { boxes }, ["case.npz", npz]);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^multipart\/form-data; boundary=/);
    const parts = await response.formData();
    expect([...parts.keys()]).toEqual(["params", "image"]);
    const params = InferResultSchema.parse(JSON.parse(String(parts.get("params"))));
    expect(params.expert).toBe("general");
    // The box oracle's logits are the distance to the box edge + 0.5 px: in the model frame the rings just inside
    // and just outside are doubtful, the rest sure (box 2: 149·189 sure among 153·193). Masks are clipped to their
    // boxes, so in the label plane only the inner ring is doubtful (box 1: 2·91 + 2·71 − 4 = 320 pixels). Box 2
    // lies on top of box 1 (x 50..100, y 60..90): of box 1's 89·69 sure pixels, the 50·30 under box 2 are hidden
    // (49·29, under its sure pixels) or put in doubt (79, under its inner ring), and 79 of box 1's 320 doubtful
    // label-plane pixels are hidden: sure 6141 − 1500 = 4641, doubtful 648 · (1 − 79/320) + 79.
    expect(params.label_confidence["box 1"]).toBeCloseTo(4641 / (4641 + 648 * (1 - 79 / 320) + 79), 6);
    expect(params.label_confidence["box 2"]).toBeCloseTo((149 * 189) / (153 * 193), 6);
    const image = parts.get("image") as File;
    expect(image.name).toBe("case.nii.gz");
    const nifti = readNifti(gunzipSync(new Uint8Array(await image.arrayBuffer())), "image");
    expect(Array.from(nifti.data)).toEqual(Array.from(paintedBoxes(256, 256, boxes)));
  });

  it("a NIfTI input: the .nii.gz result is the very file daft segment writes (/api/v1/segment), .nrrd carries its geometry", async () => {
    const box = [[1, 1, 1, 4, 3, 3]];
    const native = await fx.handler(
      multipartRequest("/api/v1/segment", { request: JSON.stringify({ boxes: box }) }, [
        ["file", "nifti1_oblique_int16.nii.gz", niftiBytes],
      ]),
    );
    const nativeBytes = Buffer.from(((await native.json()) as { output: string }).output, "base64");
    const nii = await infer("daft", "?output=image", { boxes: box }, [
      "nifti1_oblique_int16.nii.gz",
      niftiBytes,
    ]);
    expect(Buffer.from(await nii.arrayBuffer()).equals(nativeBytes)).toBe(true);

    const nrrd = await infer("daft", "?output=image", { boxes: box, result_extension: ".nrrd" }, [
      "nifti1_oblique_int16.nii.gz",
      niftiBytes,
    ]);
    expect(nrrd.status).toBe(200);
    expect(nrrd.headers.get("content-disposition")).toMatch(/filename="nifti1_oblique_int16\.nrrd"/);
    const image = readNrrd(new Uint8Array(await nrrd.arrayBuffer()), "result.nrrd");
    const labels = readNifti(gunzipSync(nativeBytes), "labels");
    expect(image.type).toBe("uint16");
    expect(image.sizes).toEqual(labels.dims);
    expect(Array.from(image.data)).toEqual(Array.from(labels.data));
    expect(image.space).toBe("right-anterior-superior");
    const a = labels.affine;
    image.spaceDirections!.forEach((direction, axis) =>
      direction!.forEach((v, row) => expect(v).toBeCloseTo(a[row]![axis]!, 6)),
    );
    image.spaceOrigin!.forEach((v, row) => expect(v).toBeCloseTo(a[row]![3]!, 6));
  });

  it("an NRRD input: the .nrrd result is daft segment's own file, .nii.gz carries its placement in RAS", async () => {
    const source = readNifti(gunzipSync(new Uint8Array(niftiBytes)), "source");
    const lps = flipXY(source.affine);
    const nrrdInput = writeNrrd({
      type: "float",
      sizes: source.dims,
      data: Float32Array.from(source.data),
      space: "left-posterior-superior",
      spaceDirections: [0, 1, 2].map((c) => [lps[0]![c]!, lps[1]![c]!, lps[2]![c]!]),
      spaceOrigin: [lps[0]![3]!, lps[1]![3]!, lps[2]![3]!],
    });
    const box = [[1, 1, 1, 4, 3, 3]];
    const native = await fx.handler(
      multipartRequest("/api/v1/segment", { request: JSON.stringify({ boxes: box }) }, [
        ["file", "scan.nrrd", nrrdInput],
      ]),
    );
    const reply = (await native.json()) as { output: string; fileName: string };
    expect(reply.fileName).toBe("scan.nrrd");
    const nativeBytes = Buffer.from(reply.output, "base64");
    const asNrrd = await infer("daft", "?output=image", { boxes: box, result_extension: ".nrrd" }, [
      "scan.nrrd",
      nrrdInput,
    ]);
    expect(Buffer.from(await asNrrd.arrayBuffer()).equals(nativeBytes)).toBe(true);

    const { nifti, expected } = await niftiResultBesideFixture(box, ["scan.nrrd", nrrdInput]);
    expect(Array.from(nifti.data)).toEqual(Array.from(readNrrd(nativeBytes, "native").data));
    nifti.affine.forEach((row, r) => row.forEach((v, c) => expect(v).toBeCloseTo(source.affine[r]![c]!, 5)));
  });

  it("a MetaImage input: .nii.gz and .nrrd results carry its LPS placement, turned into RAS", async () => {
    const source = readNifti(gunzipSync(new Uint8Array(niftiBytes)), "source");
    const lps = flipXY(source.affine);
    const spacing = [0, 1, 2].map((c) => Math.hypot(lps[0]![c]!, lps[1]![c]!, lps[2]![c]!));
    const mha = writeMetaImage({
      sizes: source.dims,
      data: Float32Array.from(source.data),
      spacing,
      offset: [lps[0]![3]!, lps[1]![3]!, lps[2]![3]!],
      directions: [0, 1, 2].map((c) => [0, 1, 2].map((r) => lps[r]![c]! / spacing[c]!)),
    });
    const box = [[1, 1, 1, 4, 3, 3]];
    const { nifti, expected } = await niftiResultBesideFixture(box, ["scan.mha", mha]);
    nifti.affine.forEach((row, r) => row.forEach((v, c) => expect(v).toBeCloseTo(source.affine[r]![c]!, 4)));
    const asNrrd = await infer("daft", "?output=image", { boxes: box, result_extension: ".nrrd" }, [
      "scan.mha",
      mha,
    ]);
    const nrrd = readNrrd(new Uint8Array(await asNrrd.arrayBuffer()), "result.nrrd");
    expect(nrrd.space).toBe("right-anterior-superior");
    nrrd.spaceDirections!.forEach((d, c) =>
      d!.forEach((v, r) => expect(v).toBeCloseTo(source.affine[r]![c]!, 4)),
    );
    expect(Array.from(nrrd.data)).toEqual(Array.from(expected.data));
  });

  it("an .npz case as NRRD: no patient frame, its spacing", async () => {
    const response = await infer("daft", "?output=image", { boxes, result_extension: ".nrrd" }, [
      "case.npz",
      npz,
    ]);
    const image = readNrrd(new Uint8Array(await response.arrayBuffer()), "case.nrrd");
    expect(image).toMatchObject({ type: "uint16", sizes: [256, 256, 1], spacings: [1, 1, 1] });
    expect(image.space).toBeUndefined();
    expect(Array.from(image.data)).toEqual(Array.from(paintedBoxes(256, 256, boxes)));
  });

  it("refuses an unknown model (404), a bad output (400), bad params (400), no image (400), an unknown image id (404)", async () => {
    const unknown = await infer("segresnet", "", { boxes }, ["case.npz", npz]);
    expect(unknown.status).toBe(404);
    expect(await errorOf(unknown)).toBe(
      'model "segresnet": no such model (available: daft, general, CT, XRay)',
    );
    const output = await infer("daft", "?output=dicom_seg", { boxes }, ["case.npz", npz]);
    expect(output.status).toBe(400);
    expect(await errorOf(output)).toBe('output: must be image, json or all, got "dicom_seg"');
    const params = await fx.handler(
      multipartRequest("/infer/daft", { params: "[1," }, [["file", "case.npz", npz]]),
    );
    expect(params.status).toBe(400);
    expect(await errorOf(params)).toMatch(/^params: not valid JSON/);
    const extension = await infer("daft", "", { boxes, result_extension: ".mha" }, ["case.npz", npz]);
    expect(extension.status).toBe(400);
    expect(await errorOf(extension)).toMatch(/^params: result_extension: /);
    const none = await infer("daft", "", { boxes });
    expect(none.status).toBe(400);
    expect(await errorOf(none)).toBe(
      "file: give the image as a file part or as a datastore id (?image=<id>)",
    );
    const missing = await infer("daft", "?image=nothing-here", { boxes });
    expect(missing.status).toBe(404);
    expect(await errorOf(missing)).toMatch(/^image "nothing-here": not in the datastore/);
  });

  it("accepts other MONAI Label params and ignores them", async () => {
    const response = await infer("daft", "?output=json", { boxes, device: "cuda", label_info: [] }, [
      "case.npz",
      npz,
    ]);
    expect(response.status).toBe(200);
  });
});

describe("the datastore", () => {
  it("PUT /datastore/image stores an upload under an id; infer by ?image=<id>; GET /datastore/ lists it", async () => {
    const npz = case2d(256, 256, [[5, 6, 40, 50]]);
    const put = await fx.handler(
      multipartRequest("/datastore/image?image=chest-01", {}, [["file", "2DBox_XRay_chest.npz", npz]], "PUT"),
    );
    expect(put.status).toBe(200);
    expect(DatastorePutSchema.parse(await put.json())).toEqual({ image: "chest-01" });
    const named = await fx.handler(
      multipartRequest("/datastore/", {}, [["file", "scan one.nii.gz", niftiBytes]], "PUT"),
    );
    expect(await named.json()).toEqual({ image: "scan_one" });

    const all = DatastoreAllSchema.parse(
      await (await fx.handler(new Request(`${BASE}/datastore/?output=all`))).json(),
    );
    expect(all.objects["chest-01"]).toEqual({
      image: {
        ext: ".npz",
        info: { name: "2DBox_XRay_chest.npz", size: npz.length, ts: expect.any(Number) },
      },
      labels: {},
    });
    expect(Object.keys(all.objects)).toContain("scan_one");
    const stats = DatastoreStatusSchema.parse(
      await (await fx.handler(new Request(`${BASE}/datastore/`))).json(),
    );
    expect(stats.total).toBeGreaterThanOrEqual(2);

    // No file part and no body at all: the stored image, routed by its stored file name.
    const byId = await fx.handler(
      new Request(`${BASE}/infer/daft?image=chest-01&output=json`, { method: "POST" }),
    );
    expect(byId.status).toBe(200);
    expect(InferResultSchema.parse(await byId.json())).toMatchObject({
      expert: "XRay",
      file: "2DBox_XRay_chest.nii.gz",
    });
    const withBoxes = await infer("general", "?image=chest-01&output=image", { boxes: [[0, 0, 9, 9]] });
    const nifti = readNifti(gunzipSync(new Uint8Array(await withBoxes.arrayBuffer())), "r");
    expect(Array.from(nifti.data)).toEqual(Array.from(paintedBoxes(256, 256, [[0, 0, 9, 9]])));
  });

  it("refuses ids with path characters and a missing file; bad output values", async () => {
    for (const id of ["../etc", "a/b", ".hidden", "x%00y"]) {
      const put = await fx.handler(
        multipartRequest(
          `/datastore/image?image=${encodeURIComponent(id)}`,
          {},
          [["file", "a.npz", new Uint8Array(8)]],
          "PUT",
        ),
      );
      expect(put.status).toBe(400);
      expect(await errorOf(put)).toMatch(/an id may hold letters, digits/);
    }
    const noFile = await fx.handler(multipartRequest("/datastore/image", { file: "x" }, [], "PUT"));
    expect(noFile.status).toBe(400);
    const output = await fx.handler(new Request(`${BASE}/datastore/?output=train`));
    expect(output.status).toBe(400);
  });

  it("keeps within its memory bound by dropping the least recently used images", async () => {
    const small = fx.handlerWith({ limits: { datastoreBytes: 3000 } });
    const put = (id: string, size: number) =>
      small(
        multipartRequest(
          `/datastore/image?image=${id}`,
          {},
          [["file", `${id}.npz`, new Uint8Array(size)]],
          "PUT",
        ),
      );
    expect((await put("a", 1000)).status).toBe(200);
    expect((await put("b", 1000)).status).toBe(200);
    expect((await put("c", 1000)).status).toBe(200);
    await small(new Request(`${BASE}/infer/daft?image=a&output=json`, { method: "POST" })); // touches "a"
    expect((await put("d", 1000)).status).toBe(200); // evicts "b", the least recently used
    const all = DatastoreAllSchema.parse(
      await (await small(new Request(`${BASE}/datastore/?output=all`))).json(),
    );
    expect(Object.keys(all.objects).sort()).toEqual(["a", "c", "d"]);
    const huge = await put("e", 4000);
    expect(huge.status).toBe(413);
    expect(await errorOf(huge)).toMatch(/^e\.npz: .* does not fit the datastore/);
  });
});

describe("npz results stay what the CLI writes", () => {
  it("the npz label map from /api/v1/segment and the NIfTI from /infer hold the same labels", async () => {
    const boxes = [[30, 40, 60, 70]];
    const npz = case2d(256, 256, [[0, 0, 1, 1]]);
    const native = await fx.handler(
      multipartRequest("/api/v1/segment", { request: JSON.stringify({ boxes }) }, [
        ["file", "case.npz", npz],
      ]),
    );
    const segs = segsOf(((await native.json()) as { output: string }).output);
    const nifti = await infer("daft", "?output=image", { boxes }, ["case.npz", npz]);
    const labels = readNifti(gunzipSync(new Uint8Array(await nifti.arrayBuffer())), "r");
    expect(Array.from(labels.data)).toEqual(Array.from(segs.labels));
  });
});
