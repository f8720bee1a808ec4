/**
 * The native JSON API the DAFT web app uses in "local server" mode (notes/contract-serve-web.md):
 *   GET  /api/v1/health
 *   POST /api/v1/segment  multipart: `request` (JSON) + one or more `file` parts → the label map as base64 + record
 *                         (+ a DICOM-SEG with request.dicomSeg, for DICOM inputs)
 */
import { slicerSegmentationOf } from "@daft/core";
import { dicomSegFileName, stemOf } from "../cli/segmentInputs.js";
import type { ServerContext } from "./context.js";
import { fileParts, jsonField } from "./forms.js";
import { readUploadForm } from "./limits.js";
import { errorResponses, fileSchema, jsonContent, jsonPartSchema } from "./openapi.js";
import { jsonResponse, mediaTypeOf } from "./responses.js";
import type { Route } from "./router.js";
import { HttpError } from "./responses.js";
import { CaseRecordSchema, segmentRequestSchema, type Health, type SegmentResponse } from "./schemas.js";

export function nativeRoutes(context: ServerContext): Route[] {
  const requestSchema = segmentRequestSchema(context.limits.maxBoxes);
  return [
    {
      method: "GET",
      path: "/api/v1/health",
      operation: {
        operationId: "health",
        summary: "Server is up; version and models folder",
        tags: ["native"],
        responses: { "200": { description: "OK", content: jsonContent("Health") } },
      },
      async handle() {
        const body: Health = { ok: true, version: context.version, models: context.engine.models.dir };
        return jsonResponse(body);
      },
    },
    {
      method: "POST",
      path: "/api/v1/segment",
      operation: {
        operationId: "segment",
        summary: "Segment one input (a file, or the files of one DICOM series) with box prompts",
        description:
          "The result is the label map daft segment writes for the same input and boxes (same bytes, same file " +
          "name), base64-encoded, with the case record (route, expert, timings).",
        tags: ["native"],
        requestBody: {
          required: true,
          content: {
            "multipart/form-data": {
              schema: {
                type: "object",
                properties: {
                  request: jsonPartSchema("SegmentRequest"),
                  file: {
                    type: "array",
                    items: fileSchema(),
                    description:
                      "the input; its file name routes the case like the CLI. Several: one DICOM series",
                  },
                },
                required: ["file"],
              },
              encoding: { request: { contentType: "application/json" } },
            },
          },
        },
        responses: {
          "200": {
            description: "the label map and the case record",
            content: jsonContent("SegmentResponse"),
          },
          ...errorResponses("400", "404", "413", "415", "500", "503"),
        },
      },
      async handle({ request }) {
        const form = await readUploadForm(request, context.limits.maxUploadBytes);
        const fields = jsonField(form, "request", requestSchema, "{}");
        const uploads = await fileParts(form, "file");
        if (uploads.length === 0) throw new HttpError(400, "file: no file part in the upload");
        const boxes = fields.boxes && fields.boxes.length > 0 ? fields.boxes : undefined;
        if (fields.world && !boxes) throw new HttpError(400, "request: world applies to boxes; give boxes");
        const { result, fileName, input } = await context.engine.segment(
          {
            uploads,
            ...(boxes ? { prompts: { boxes, world: fields.world ?? false } } : {}),
            expert: fields.expert,
            modality: fields.modality,
            window: fields.window,
            zoom: fields.zoom,
            mirroring: fields.mirroring,
            overlaps: fields.overlaps,
            edges: fields.edges,
            clipToBox: fields.clipToBox,
            names: fields.names,
            ...(fields.dicomSeg ? { dicomSeg: { softwareVersion: context.version } } : {}),
          },
          request.signal,
        );
        const seg = result.dicomSeg;
        const body: SegmentResponse = {
          fileName,
          mediaType: mediaTypeOf(fileName),
          output: base64(result.output),
          record: CaseRecordSchema.parse(result.record),
          ...(seg
            ? {
                dicomSeg: seg.written
                  ? {
                      fileName: dicomSegFileName(input),
                      mediaType: "application/dicom" as const,
                      output: base64(seg.bytes),
                      segments: seg.segments,
                      frames: seg.frames,
                    }
                  : { skipped: seg.reason },
              }
            : {}),
          ...(fields.slicerSeg
            ? {
                slicerSeg: {
                  fileName: `${stemOf(input)}.seg.nrrd`,
                  mediaType: "application/octet-stream" as const,
                  output: base64(slicerSegmentationOf(result)),
                  segments: result.input.boxes.length,
                },
              }
            : {}),
        };
        return jsonResponse(body);
      },
    },
  ];
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}
