/**
 * MONAI Label's POST /infer/{model}: multipart `file` (or ?image=<datastore id>, or ?session_id=<session>) +
 * `params` JSON with box prompts
 * → ?output=image (the label map, NIfTI or NRRD), json (expert, latencies) or all (a multipart of both, the
 * default, as MONAI Label answers).
 */
import { objectName } from "@daft/core";
import { stemOf } from "../cli/segmentInputs.js";
import type { ServerContext } from "./context.js";
import type { Upload } from "./engine.js";
import { fileParts, jsonField, multipartResponse } from "./forms.js";
import { labelMapFile } from "./labelMapFiles.js";
import { isMultipart, readUploadForm } from "./limits.js";
import { IMAGE_QUERY } from "./monaiDatastore.js";
import { errorResponses, fileSchema, jsonContent, jsonPartSchema, ref } from "./openapi.js";
import { attachmentDisposition, HttpError, jsonResponse, mediaTypeOf } from "./responses.js";
import type { Route } from "./router.js";
import { CaseRecordSchema, InferOutputSchema, inferParamsSchema, type InferResult } from "./schemas.js";

/** The model that routes each image to its expert, as `daft segment` does. */
export const AUTO_MODEL = "daft";

export function inferRoute(context: ServerContext): Route {
  const { engine, datastore, sessions, limits } = context;
  const paramsSchema = inferParamsSchema(limits.maxBoxes);
  const modelNames = () => [AUTO_MODEL, ...engine.expertNames()];

  const infer: Route["handle"] = async ({ request, url, params }) => {
    const model = params["model"]!;
    if (!modelNames().includes(model)) {
      throw new HttpError(404, `model "${model}": no such model (available: ${modelNames().join(", ")})`);
    }
    const output = InferOutputSchema.safeParse(url.searchParams.get("output") ?? "all");
    if (!output.success) {
      throw new HttpError(400, `output: must be image, json or all, got "${url.searchParams.get("output")}"`);
    }
    const form = await optionalForm(request, limits.maxUploadBytes);
    const fields = jsonField(form, "params", paramsSchema, "{}");
    const sessionId = url.searchParams.get("session_id");
    const uploads = sessionId
      ? sessions.uploads(sessionId)
      : await uploadsOrStored(form, url.searchParams.get("image"));
    const boxes = fields.boxes && fields.boxes.length > 0 ? fields.boxes : undefined;
    if (fields.world && !boxes) throw new HttpError(400, "params: world applies to boxes; give boxes");

    const started = performance.now();
    const { result, input, queueMs } = await engine.segment(
      {
        uploads,
        ...(boxes ? { prompts: { boxes, world: fields.world ?? false } } : {}),
        ...(model === AUTO_MODEL ? {} : { expert: model }),
        modality: fields.modality,
        window: fields.window,
        zoom: fields.zoom,
        mirroring: fields.mirroring,
        overlaps: fields.overlaps,
        edges: fields.edges,
        clipToBox: fields.clipToBox,
        names: fields.names,
      },
      request.signal,
    );
    const extension = fields.result_extension ?? ".nii.gz";
    const writeStart = performance.now();
    const bytes = labelMapFile(result, extension);
    const writeMs = performance.now() - writeStart;
    const fileName = `${stemOf(input)}${extension}`;
    const record = CaseRecordSchema.parse(result.record);
    const t = record.timings;
    const seconds = (ms: number) => Math.round(ms) / 1000;
    const json: InferResult = {
      label_names: Object.fromEntries(
        Array.from({ length: result.record.boxes }, (_, i) => [objectName(record.names, i + 1), i + 1]),
      ),
      label_confidence: Object.fromEntries(
        record.confidence.map((c, i) => [objectName(record.names, i + 1), c]),
      ),
      latencies: {
        queue: seconds(queueMs),
        pre: seconds(t.decodeInputMs + t.preprocessMs),
        infer: seconds(t.encodeMs + t.decodeMs),
        invert: 0,
        post: seconds(t.postprocessMs),
        write: seconds(t.encodeOutputMs + writeMs),
        total: seconds(performance.now() - started),
      },
      expert: result.record.route.expert,
      model,
      file: fileName,
      route: record.route,
      record,
    };
    const mediaType = mediaTypeOf(fileName);
    if (output.data === "json") return jsonResponse(json);
    if (output.data === "image") {
      return new Response(bytes, {
        headers: {
          "Content-Type": mediaType,
          "Content-Disposition": attachmentDisposition(fileName),
          "Cache-Control": "no-store",
        },
      });
    }
    return multipartResponse([
      { name: "params", contentType: "application/json", body: JSON.stringify(json) },
      { name: "image", fileName, contentType: mediaType, body: bytes },
    ]);
  };

  /** The image of an infer request: the uploaded file(s), else the datastore's image `id`. */
  async function uploadsOrStored(form: FormData, id: string | null): Promise<Upload[]> {
    const uploads = await fileParts(form, "file");
    if (uploads.length > 0) return uploads;
    if (!id)
      throw new HttpError(400, "file: give the image as a file part or as a datastore id (?image=<id>)");
    const stored = datastore.get(id);
    if (!stored)
      throw new HttpError(404, `image "${id}": not in the datastore (upload it with PUT /datastore/image)`);
    return [{ fileName: stored.fileName, bytes: stored.bytes }];
  }

  return {
    method: "POST",
    path: "/infer/{model}",
    operation: {
      operationId: "infer",
      summary: "Segment an image with box prompts (MONAI Label infer)",
      description:
        `model "${AUTO_MODEL}" routes automatically; an expert's name forces that expert. The label map is ` +
        "NIfTI (.nii.gz, the input's geometry; pictures as one slice) or NRRD (params.result_extension).",
      tags: ["monai-label"],
      parameters: [
        {
          name: "model",
          in: "path",
          required: true,
          description: `"${AUTO_MODEL}" or an expert name (see /info/)`,
          schema: { type: "string" },
        },
        IMAGE_QUERY,
        {
          name: "session_id",
          in: "query",
          required: false,
          description: "segment the image of this session (PUT /session/); any file part is then ignored",
          schema: { type: "string", format: "uuid" },
        },
        {
          name: "output",
          in: "query",
          required: false,
          description: "image | json | all (default all)",
          schema: { type: "string", enum: ["image", "json", "all"] },
        },
      ],
      requestBody: {
        required: false,
        content: {
          "multipart/form-data": {
            schema: {
              type: "object",
              properties: {
                params: jsonPartSchema("InferParams"),
                file: fileSchema(),
              },
            },
            encoding: { params: { contentType: "application/json" } },
          },
        },
      },
      responses: {
        "200": {
          description:
            "output=image: the label map file; json: the result; all: multipart with params (JSON) and image (file)",
          content: {
            "application/gzip": { schema: fileSchema("application/gzip") },
            "application/octet-stream": {
              schema: fileSchema(),
            },
            "application/json": { schema: ref("InferResult") },
            "multipart/form-data": {
              schema: {
                type: "object",
                properties: {
                  params: jsonPartSchema("InferResult"),
                  image: fileSchema(),
                },
              },
            },
          },
        },
        ...errorResponses("400", "404", "413", "415", "500", "503"),
      },
    },
    handle: infer,
  };
}

/** A multipart form, or an empty one for a request without a body (infer from a datastore id). */
async function optionalForm(request: Request, limit: number): Promise<FormData> {
  if (isMultipart(request)) return readUploadForm(request, limit);
  const length = request.headers.get("content-length");
  if (request.body === null || length === "0") return new FormData();
  return readUploadForm(request, limit); // 415 naming the content type
}
