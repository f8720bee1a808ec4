/**
 * MONAI Label sessions: the store's expiry and byte bound, and the flow MONAI Label's own client uses for an
 * image the datastore does not hold — PUT /session/ with `files` (plus its client_id field), then
 * POST /infer/{model}?image=…&session_id=… with params only, then GET / DELETE /session/{id}.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gunzipSync } from "fflate";
import { readNifti } from "@daft/core";
import { HttpError } from "./responses.js";
import { InferResultSchema, SessionCreatedSchema, SessionInfoSchema } from "./schemas.js";
import { MemorySessions } from "./sessions.js";
import {
  BASE,
  case2d,
  multipartRequest,
  paintedBoxes,
  serverFixture,
  type ServerFixture,
} from "./testFixture.js";

const upload = (name: string, size: number) => ({ fileName: name, bytes: new Uint8Array(size) });

describe("MemorySessions", () => {
  it("drops a session unused for longer than its expiry, and refreshes it on use", () => {
    let now = 1000;
    const sessions = new MemorySessions(1 << 20, () => now);
    const { id, info } = sessions.create([upload("a.npz", 10)], 60);
    expect(info).toMatchObject({ name: id, image: "a.npz", bytes: 10, expiry: 60, create_ts: 1000 });
    now += 50;
    expect(sessions.uploads(id)).toHaveLength(1); // used at 1050: expires after 1110
    now += 55;
    expect(sessions.get(id).last_update_ts).toBe(1050);
    now += 10;
    expect(() => sessions.get(id)).toThrow(HttpError);
    expect(sessions.count).toBe(0);
  });

  it("keeps within its byte bound by dropping the oldest sessions; refuses one larger than the bound", () => {
    const sessions = new MemorySessions(100);
    const first = sessions.create([upload("1.npz", 40)], 0).id;
    const second = sessions.create([upload("2.npz", 40)], 0).id;
    const third = sessions.create([upload("3.dcm", 30), upload("4.dcm", 30)], 0);
    expect(third.info).toMatchObject({ image: "2 files", files: ["3.dcm", "4.dcm"], bytes: 60 });
    expect(() => sessions.get(first)).toThrow(/not found/);
    expect(sessions.get(second).bytes).toBe(40);
    expect(() => sessions.create([upload("huge.nii", 101)], 0)).toThrow(/do not fit/);
  });

  it("answers 404 for ids it never made, including path-like ones", () => {
    const sessions = new MemorySessions(100);
    for (const id of ["nope", "../../etc/passwd", "00000000-0000-0000-0000-000000000000"]) {
      try {
        sessions.get(id);
        expect.unreachable();
      } catch (error) {
        expect((error as HttpError).status).toBe(404);
      }
    }
  });
});

describe("/session/ through the handler", () => {
  let fx: ServerFixture;
  beforeAll(async () => {
    fx = await serverFixture();
  });
  afterAll(() => fx.cleanup());

  const boxes = [
    [10, 20, 100, 90],
    [50, 60, 200, 250],
  ];
  const npz = case2d(256, 256, [[0, 0, 3, 3]]);

  it("PUT /session/ then infer by session_id (MONAI Label's client), then GET and DELETE the session", async () => {
    const created = await fx.handler(
      multipartRequest("/session/?expiry=600", { client_id: "slicer" }, [["files", "case.npz", npz]], "PUT"),
    );
    expect(created.status).toBe(200);
    const { session_id, session_info } = SessionCreatedSchema.parse(await created.json());
    expect(session_info).toMatchObject({ image: "case.npz", bytes: npz.byteLength, expiry: 600 });

    const inferred = await fx.handler(
      multipartRequest(
        `/infer/daft?image=case&session_id=${session_id}`,
        {
          params: JSON.stringify({ boxes, client_id: "slicer" }),
        },
        [],
      ),
    );
    expect(inferred.status).toBe(200);
    const parts = await inferred.formData();
    expect(InferResultSchema.parse(JSON.parse(String(parts.get("params")))).expert).toBe("general");
    const image = parts.get("image") as File;
    expect(image.name).toBe("case.nii.gz");
    const nifti = readNifti(gunzipSync(new Uint8Array(await image.arrayBuffer())), "image");
    expect(Array.from(nifti.data)).toEqual(Array.from(paintedBoxes(256, 256, boxes)));

    const info = await fx.handler(new Request(`${BASE}/session/${session_id}`));
    expect(SessionInfoSchema.parse(await info.json()).name).toBe(session_id);
    const file = await fx.handler(new Request(`${BASE}/session/${session_id}?image=true`));
    expect(Buffer.from(await file.arrayBuffer()).equals(Buffer.from(npz))).toBe(true);

    const deleted = await fx.handler(new Request(`${BASE}/session/${session_id}`, { method: "DELETE" }));
    expect(deleted.status).toBe(200);
    const gone = await fx.handler(
      multipartRequest(`/infer/daft?session_id=${session_id}`, { params: JSON.stringify({ boxes }) }, []),
    );
    expect(gone.status).toBe(404);
    expect(((await gone.json()) as { error: string }).error).toMatch(/^session ".+": not found/);
  });

  it("refuses a session without files, a bad expiry and an archive to uncompress, with one-line 400s", async () => {
    const cases: [string, [string, string, Uint8Array][], RegExp][] = [
      ["/session/", [], /^files: no files part/],
      ["/session/?expiry=soon", [["files", "case.npz", npz]], /^expiry: /],
      ["/session/?uncompress=true", [["files", "case.zip", npz]], /^uncompress: /],
    ];
    for (const [path, files, message] of cases) {
      const response = await fx.handler(multipartRequest(path, { client_id: "x" }, files, "PUT"));
      expect(response.status, path).toBe(400);
      expect(((await response.json()) as { error: string }).error).toMatch(message);
    }
  });
});
