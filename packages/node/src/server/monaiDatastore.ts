/**
 * The minimal MONAI Label datastore over HTTP (images kept in memory, see datastore.ts):
 *   GET /datastore/        ?output=stats (default) | all
 *   PUT /datastore/image   multipart `file`, ?image=<id> → {"image": id}   (PUT /datastore/ is the older alias)
 */
import type { ServerContext } from "./context.js";
import { imageIdFromFileName } from "./datastore.js";
import { baseName } from "./engine.js";
import { fileParts } from "./forms.js";
import { readUploadForm } from "./limits.js";
import {
  errorResponses,
  fileSchema,
  jsonContent,
  ref,
  type OpenApiOperation,
  type OpenApiParameter,
} from "./openapi.js";
import { HttpError, jsonResponse } from "./responses.js";
import type { Route } from "./router.js";

/** The `image` query parameter: a datastore id. */
export const IMAGE_QUERY: OpenApiParameter = {
  name: "image",
  in: "query",
  required: false,
  description: "a datastore image id",
  schema: { type: "string", pattern: "^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$" },
};

export function datastoreRoutes(context: ServerContext): Route[] {
  const { datastore, limits } = context;

  const addImage: Route["handle"] = async ({ request, url }) => {
    const form = await readUploadForm(request, limits.maxUploadBytes);
    const uploads = await fileParts(form, "file");
    if (uploads.length !== 1) {
      throw new HttpError(
        400,
        `file: PUT /datastore/image takes exactly one file part, got ${uploads.length}`,
      );
    }
    const upload = uploads[0]!;
    const fileName = baseName(upload.fileName);
    const id = url.searchParams.get("image") || imageIdFromFileName(fileName);
    datastore.add(id, fileName, upload.bytes);
    return jsonResponse({ image: id });
  };

  const putOperation = (deprecated: boolean): OpenApiOperation => ({
    operationId: deprecated ? "datastorePutLegacy" : "datastorePut",
    summary: "Upload an image into the in-memory datastore",
    description: `Bounded (least recently used images are dropped past ${limits.datastoreBytes} bytes); the id defaults to the file name without its extension.`,
    tags: ["monai-label"],
    ...(deprecated ? { deprecated: true } : {}),
    parameters: [IMAGE_QUERY],
    requestBody: {
      required: true,
      content: {
        "multipart/form-data": {
          schema: {
            type: "object",
            properties: { file: fileSchema() },
            required: ["file"],
          },
        },
      },
    },
    responses: {
      "200": { description: "stored", content: jsonContent("DatastorePut") },
      ...errorResponses("400", "413", "415"),
    },
  });

  return [
    {
      method: "GET",
      path: "/datastore/",
      operation: {
        operationId: "datastore",
        summary: "The in-memory datastore: counts (output=stats, default) or every image (output=all)",
        tags: ["monai-label"],
        parameters: [
          {
            name: "output",
            in: "query",
            required: false,
            description: "stats | all",
            schema: { type: "string", enum: ["stats", "all"] },
          },
        ],
        responses: {
          "200": {
            description: "OK",
            content: {
              "application/json": { schema: { oneOf: [ref("DatastoreStatus"), ref("DatastoreAll")] } },
            },
          },
          ...errorResponses("400"),
        },
      },
      async handle({ url }) {
        const output = url.searchParams.get("output") ?? "stats";
        if (output === "stats") return jsonResponse(datastore.status());
        if (output === "all") return jsonResponse(datastore.json());
        throw new HttpError(400, `output: must be stats or all, got "${output}"`);
      },
    },
    { method: "PUT", path: "/datastore/image", operation: putOperation(false), handle: addImage },
    { method: "PUT", path: "/datastore/", operation: putOperation(true), handle: addImage },
  ];
}
