/**
 * /openapi.json against the implementation: every documented operation answers (not 404/405), every implemented
 * route is documented, the components are the JSON Schemas of the zod schemas the handler validates with, and
 * the happy paths' bodies parse with the schema their operation documents.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as z from "@daft/core/zod";
import { DEFAULT_LIMITS } from "./limits.js";
import { jsonSchemaOf, schemaComponents } from "./openapi.js";
import { BASE, case2d, multipartRequest, serverFixture, type ServerFixture } from "./testFixture.js";

interface Doc {
  openapi: string;
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }> }>
  >;
  components: { schemas: Record<string, unknown> };
}

let fx: ServerFixture;
let doc: Doc;
beforeAll(async () => {
  fx = await serverFixture();
  const response = await fx.handler(new Request(`${BASE}/openapi.json`));
  expect(response.status).toBe(200);
  doc = (await response.json()) as Doc;
  // A live session, so /session/{session_id} names something that exists.
  SAMPLE_PARAMS["session_id"] = fx.handler.context.sessions.create(
    [{ fileName: "case.npz", bytes: new Uint8Array([1, 2, 3]) }],
    0,
  ).id;
});
afterAll(() => fx.cleanup());

const SAMPLE_PARAMS: Record<string, string> = {
  model: "daft",
  file: "manifest.json",
  asset: "assets/app.js",
};
const concrete = (path: string) => path.replace(/\{(\w+)\}/g, (_, name: string) => SAMPLE_PARAMS[name]!);

describe("GET /openapi.json", () => {
  it("is OpenAPI 3.1 and the same document the handler was built with", () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(doc).toEqual(JSON.parse(JSON.stringify(fx.handler.openapi)));
    for (const path of [
      "/info/",
      "/infer/{model}",
      "/datastore/",
      "/datastore/image",
      "/api/v1/health",
      "/api/v1/segment",
    ]) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
  });

  it("documents every implemented route, and nothing else", () => {
    const implemented = fx.handler.routes.map((r) => `${r.method} ${r.path}`).sort();
    const documented = Object.entries(doc.paths)
      .flatMap(([path, operations]) => Object.keys(operations).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    expect(documented).toEqual(implemented);
  });

  it("every documented operation answers (with an empty request: a 2xx or a 4xx that is not 404/405)", async () => {
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const method of Object.keys(operations)) {
        const response = await fx.handler(
          new Request(`${BASE}${concrete(path)}`, { method: method.toUpperCase() }),
        );
        expect([404, 405], `${method} ${path} → ${response.status}`).not.toContain(response.status);
        expect(response.status, `${method} ${path}`).toBeLessThan(500);
      }
    }
  });

  it("an undocumented path is a 404", async () => {
    expect((await fx.handler(new Request(`${BASE}/api/v2/segment`, { method: "POST" }))).status).toBe(404);
    expect((await fx.handler(new Request(`${BASE}/train/daft`, { method: "POST" }))).status).toBe(405);
  });

  it("components are exactly the JSON Schemas of the handler's zod schemas, and every $ref resolves", () => {
    const components = schemaComponents(DEFAULT_LIMITS);
    expect(Object.keys(doc.components.schemas).sort()).toEqual(Object.keys(components).sort());
    for (const [name, { schema, io }] of Object.entries(components)) {
      expect(doc.components.schemas[name], name).toEqual(jsonSchemaOf(schema, io));
    }
    const refs = JSON.stringify(doc).match(/#\/components\/schemas\/\w+/g) ?? [];
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of refs) expect(doc.components.schemas).toHaveProperty(ref.split("/").pop()!);
    // The limits the handler enforces are the ones documented.
    const request = doc.components.schemas["SegmentRequest"] as {
      properties: { boxes: { maxItems: number } };
    };
    expect(request.properties.boxes.maxItems).toBe(DEFAULT_LIMITS.maxBoxes);
  });
});

describe("happy paths answer what their operation documents", () => {
  /** The zod schema behind the JSON body of the operation's 200 response. */
  function documentedSchema(path: string, method: string): z.ZodMiniType {
    const content = doc.paths[path]![method]!.responses["200"]!.content!["application/json"]!;
    const name = content.schema.$ref!.split("/").pop()!;
    return schemaComponents(DEFAULT_LIMITS)[name]!.schema;
  }

  it("health, segment, info, infer (json), datastore put and list", async () => {
    const npz = case2d(256, 256, [[4, 4, 60, 60]]);
    const cases: [string, string, Request][] = [
      ["/api/v1/health", "get", new Request(`${BASE}/api/v1/health`)],
      [
        "/api/v1/segment",
        "post",
        multipartRequest("/api/v1/segment", { request: JSON.stringify({ boxes: [[1, 2, 30, 40]] }) }, [
          ["file", "c.npz", npz],
        ]),
      ],
      ["/info/", "get", new Request(`${BASE}/info/`)],
      [
        "/infer/{model}",
        "post",
        multipartRequest("/infer/daft?output=json", { params: JSON.stringify({ boxes: [[1, 2, 30, 40]] }) }, [
          ["file", "c.npz", npz],
        ]),
      ],
      [
        "/datastore/image",
        "put",
        multipartRequest("/datastore/image?image=c", {}, [["file", "c.npz", npz]], "PUT"),
      ],
    ];
    for (const [path, method, request] of cases) {
      const response = await fx.handler(request);
      expect(response.status, path).toBe(200);
      documentedSchema(path, method).parse(await response.json());
    }
    // GET /datastore/ documents oneOf(DatastoreStatus, DatastoreAll): each output parses as its own.
    const components = schemaComponents(DEFAULT_LIMITS);
    components["DatastoreStatus"]!.schema.parse(
      await (await fx.handler(new Request(`${BASE}/datastore/`))).json(),
    );
    components["DatastoreAll"]!.schema.parse(
      await (await fx.handler(new Request(`${BASE}/datastore/?output=all`))).json(),
    );
    // Errors are the documented Error body.
    const error = await fx.handler(new Request(`${BASE}/infer/none`, { method: "POST" }));
    components["Error"]!.schema.parse(await error.json());
  });
});
