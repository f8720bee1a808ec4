/**
 * MONAI Label sessions over HTTP (the store is sessions.ts):
 *   PUT    /session/?expiry=<s>   multipart `files` (one file, or the files of one DICOM series) → {session_id, session_info}
 *   GET    /session/{id}          the session's info; ?image=true → the uploaded file (single-file sessions)
 *   DELETE /session/{id}          drops it
 * `POST /infer/{model}?session_id=<id>` segments the session's image (monaiInfer.ts).
 */
import type { ServerContext } from "./context.js";
import { fileParts } from "./forms.js";
import { readUploadForm } from "./limits.js";
import { errorResponses, fileSchema, jsonContent, type OpenApiParameter } from "./openapi.js";
import { attachmentDisposition, HttpError, jsonResponse, mediaTypeOf } from "./responses.js";
import type { Route } from "./router.js";

const SESSION_PATH: OpenApiParameter = {
  name: "session_id",
  in: "path",
  required: true,
  description: "the id PUT /session/ answered",
  schema: { type: "string", format: "uuid" },
};

export function sessionRoutes(context: ServerContext): Route[] {
  const { sessions, limits } = context;
  return [
    {
      method: "PUT",
      path: "/session/",
      operation: {
        operationId: "sessionCreate",
        summary: "Upload an image once for later infer calls (MONAI Label session)",
        description:
          "Several `files` parts are the files of one DICOM series. Form fields other than `files` (e.g. MONAI " +
          "Label's client_id) are accepted and ignored; `uncompress` is not supported.",
        tags: ["monai-label"],
        parameters: [
          {
            name: "expiry",
            in: "query",
            required: false,
            description: "seconds without use before the session is dropped (0 or absent: 3600)",
            schema: { type: "integer", minimum: 0 },
          },
        ],
        requestBody: {
          required: true,
          content: {
            "multipart/form-data": {
              schema: {
                type: "object",
                properties: {
                  files: {
                    type: "array",
                    items: fileSchema(),
                  },
                },
                required: ["files"],
              },
            },
          },
        },
        responses: {
          "200": { description: "created", content: jsonContent("SessionCreated") },
          ...errorResponses("400", "413", "415"),
        },
      },
      async handle({ request, url }) {
        const expiryText = url.searchParams.get("expiry") ?? "0";
        const expiry = Number(expiryText);
        if (!/^\d+$/.test(expiryText) || !Number.isSafeInteger(expiry)) {
          throw new HttpError(400, `expiry: must be a whole number of seconds, got "${expiryText}"`);
        }
        if (url.searchParams.get("uncompress") === "true") {
          throw new HttpError(400, "uncompress: archives are not supported; send the files themselves");
        }
        const form = await readUploadForm(request, limits.maxUploadBytes);
        const uploads = await fileParts(form, "files");
        if (uploads.length === 0) throw new HttpError(400, "files: no files part in the upload");
        const { id, info } = sessions.create(uploads, expiry);
        return jsonResponse({ session_id: id, session_info: info });
      },
    },
    {
      method: "GET",
      path: "/session/{session_id}",
      operation: {
        operationId: "sessionGet",
        summary: "A session's info, or (image=true) its uploaded file",
        tags: ["monai-label"],
        parameters: [
          SESSION_PATH,
          {
            name: "image",
            in: "query",
            required: false,
            description: "true: answer the uploaded file instead of the info",
            schema: { type: "boolean" },
          },
        ],
        responses: {
          "200": {
            description: "the info, or the file",
            content: {
              ...jsonContent("SessionInfo"),
              "application/octet-stream": {
                schema: fileSchema(),
              },
            },
          },
          ...errorResponses("400", "404"),
        },
      },
      async handle({ url, params }) {
        const id = params["session_id"]!;
        if (url.searchParams.get("image") !== "true") return jsonResponse(sessions.get(id));
        const uploads = sessions.uploads(id);
        if (uploads.length !== 1) {
          throw new HttpError(
            400,
            `session "${id}": holds ${uploads.length} files; ask for its info instead`,
          );
        }
        const { fileName, bytes } = uploads[0]!;
        return new Response(bytes, {
          headers: {
            "Content-Type": mediaTypeOf(fileName),
            "Content-Disposition": attachmentDisposition(fileName),
          },
        });
      },
    },
    {
      method: "DELETE",
      path: "/session/{session_id}",
      operation: {
        operationId: "sessionDelete",
        summary: "Drop a session",
        tags: ["monai-label"],
        parameters: [SESSION_PATH],
        responses: {
          "200": { description: "the dropped session's info", content: jsonContent("SessionInfo") },
          ...errorResponses("404"),
        },
      },
      async handle({ params }) {
        return jsonResponse(sessions.delete(params["session_id"]!));
      },
    },
  ];
}
