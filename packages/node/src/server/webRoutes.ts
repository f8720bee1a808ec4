/**
 * Files: the built web app at / (index.html) and /<asset>, the models folder at /models/<file> (so the in-browser
 * mode loads the same manifest and ONNX files as the server), and the OpenAPI description at /openapi.json.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { ServerContext } from "./context.js";
import { jsonResponse } from "./responses.js";
import { HttpError } from "./responses.js";
import type { Route } from "./router.js";
import { safeSegments, serveFile } from "./staticFiles.js";

/** Paths the web app's catch-all never serves: they belong to the APIs (an unknown one is a plain 404). */
const API_PREFIX = /^\/(api|info|infer|datastore|models)(\/|$)/;

const fileResponses = {
  "200": { description: "the file", content: { "application/octet-stream": { schema: { type: "string" } } } },
  "400": {
    description: "a path that could leave the folder",
    content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
  },
  "404": {
    description: "no such file",
    content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
  },
};

export function webRoutes(context: ServerContext, openapi: () => unknown): Route[] {
  const webDir = (): string => {
    const dir = context.webDir;
    if (!dir || !existsSync(join(dir, "index.html")))
      throw new HttpError(404, "web app not built: run npm run build");
    return dir;
  };
  return [
    {
      method: "GET",
      path: "/openapi.json",
      operation: {
        operationId: "openapi",
        summary: "This API's OpenAPI 3.1 description",
        tags: ["meta"],
        responses: {
          "200": {
            description: "OpenAPI document",
            content: { "application/json": { schema: { type: "object" } } },
          },
        },
      },
      async handle() {
        return jsonResponse(openapi());
      },
    },
    {
      method: "GET",
      path: "/models/{file}",
      greedy: true,
      operation: {
        operationId: "modelFile",
        summary: "A file of the models folder (manifest.json, ONNX files, selector), for the in-browser mode",
        description: "The file may lie in a subfolder (e.g. general/encoder.onnx); folders are not listed.",
        tags: ["files"],
        parameters: [
          {
            name: "file",
            in: "path",
            required: true,
            description: "path inside the models folder",
            schema: { type: "string" },
          },
        ],
        responses: fileResponses,
      },
      async handle({ request, params }) {
        return serveFile(context.engine.models.dir, safeSegments(params["file"]!), request.method);
      },
    },
    {
      method: "GET",
      path: "/",
      operation: {
        operationId: "webApp",
        summary: "The web app (index.html)",
        tags: ["files"],
        responses: {
          "200": { description: "index.html", content: { "text/html": { schema: { type: "string" } } } },
          "404": fileResponses["404"],
        },
      },
      async handle({ request }) {
        return serveFile(webDir(), ["index.html"], request.method);
      },
    },
    {
      method: "GET",
      path: "/{asset}",
      greedy: true,
      accepts: (pathname) => !API_PREFIX.test(pathname),
      operation: {
        operationId: "webAsset",
        summary: "A file of the built web app (scripts, styles, the runtime's .wasm)",
        tags: ["files"],
        parameters: [
          {
            name: "asset",
            in: "path",
            required: true,
            description: "path inside the built web app",
            schema: { type: "string" },
          },
        ],
        responses: fileResponses,
      },
      async handle({ request, params }) {
        return serveFile(webDir(), safeSegments(params["asset"]!), request.method);
      },
    },
  ];
}
