/**
 * GET /openapi.json: an OpenAPI 3.1 description generated from the route table and the zod schemas the handler
 * validates with (JSON Schema draft 2020-12, which OpenAPI 3.1 uses as is).
 */
import * as z from "@daft/core/zod";
import type { ServerLimits } from "./limits.js";
import type { Route } from "./router.js";
import {
  DatastoreAllSchema,
  DatastorePutSchema,
  SessionCreatedSchema,
  SessionInfoSchema,
  DatastoreStatusSchema,
  ErrorBodySchema,
  HealthSchema,
  InferResultSchema,
  InfoSchema,
  inferParamsSchema,
  SegmentResponseSchema,
  segmentRequestSchema,
} from "./schemas.js";

type JsonSchema = Record<string, unknown>;

export interface OpenApiParameter {
  name: string;
  in: "path" | "query";
  required: boolean;
  description: string;
  schema: JsonSchema;
}

export interface OpenApiResponse {
  description: string;
  content?: Record<string, { schema: JsonSchema }>;
  headers?: Record<string, { description: string; schema: JsonSchema }>;
}

export interface OpenApiOperation {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  deprecated?: boolean;
  parameters?: OpenApiParameter[];
  requestBody?: {
    required: boolean;
    content: Record<string, { schema: JsonSchema; encoding?: Record<string, { contentType: string }> }>;
  };
  responses: Record<string, OpenApiResponse>;
}

/** The named schemas of the API: request bodies are described as accepted (input), responses as sent (output). */
export function schemaComponents(
  limits: ServerLimits,
): Record<string, { schema: z.ZodMiniType; io: "input" | "output" }> {
  return {
    Error: { schema: ErrorBodySchema, io: "output" },
    Health: { schema: HealthSchema, io: "output" },
    SegmentRequest: { schema: segmentRequestSchema(limits.maxBoxes), io: "input" },
    SegmentResponse: { schema: SegmentResponseSchema, io: "output" },
    InferParams: { schema: inferParamsSchema(limits.maxBoxes), io: "input" },
    InferResult: { schema: InferResultSchema, io: "output" },
    Info: { schema: InfoSchema, io: "output" },
    DatastoreStatus: { schema: DatastoreStatusSchema, io: "output" },
    DatastoreAll: { schema: DatastoreAllSchema, io: "output" },
    DatastorePut: { schema: DatastorePutSchema, io: "output" },
    SessionInfo: { schema: SessionInfoSchema, io: "output" },
    SessionCreated: { schema: SessionCreatedSchema, io: "output" },
  };
}

/** A zod schema as the JSON Schema (2020-12) placed in components.schemas. */
export function jsonSchemaOf(schema: z.ZodMiniType, io: "input" | "output"): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    target: "draft-2020-12",
    io,
    unrepresentable: "any",
  });
  return rest;
}

export const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

/** A file: a binary string, in a multipart part or as a response body. */
export const fileSchema = (mediaType = "application/octet-stream"): JsonSchema => ({
  type: "string",
  contentMediaType: mediaType,
});

/** A multipart part holding JSON that follows the named component schema. */
export const jsonPartSchema = (name: string): JsonSchema => ({
  type: "string",
  contentMediaType: "application/json",
  contentSchema: ref(name),
});

export function jsonContent(name: string): Record<string, { schema: JsonSchema }> {
  return { "application/json": { schema: ref(name) } };
}

const ERROR_MEANINGS: Record<string, string> = {
  "400": "bad request or bad input (the message names the file or field)",
  "404": "unknown route, model, expert, image or file",
  "405": "wrong method for this path",
  "413": "upload larger than the limit",
  "415": "wrong content type (multipart/form-data expected)",
  "500": "server fault",
  "503": "inference queue full; retry after Retry-After seconds",
};

/** The error responses of an operation, each a one-line `{error}`. */
export function errorResponses(...statuses: string[]): Record<string, OpenApiResponse> {
  const out: Record<string, OpenApiResponse> = {};
  for (const status of statuses) {
    out[status] = { description: ERROR_MEANINGS[status] ?? "error", content: jsonContent("Error") };
    if (status === "503") {
      out[status].headers = { "Retry-After": { description: "seconds", schema: { type: "integer" } } };
    }
  }
  return out;
}

export function buildOpenApi(routes: readonly Route[], version: string, limits: ServerLimits): JsonSchema {
  const paths: Record<string, Record<string, OpenApiOperation>> = {};
  for (const route of routes) {
    (paths[route.path] ??= {})[route.method.toLowerCase()] = route.operation;
  }
  const schemas: Record<string, JsonSchema> = {};
  for (const [name, { schema, io }] of Object.entries(schemaComponents(limits)))
    schemas[name] = jsonSchemaOf(schema, io);
  return {
    openapi: "3.1.0",
    info: {
      title: "DAFT local server (daft serve)",
      version,
      description:
        "Promptable medical image segmentation on this machine: a native JSON API for the DAFT web app and the " +
        "MONAI Label conventions (/info/, /infer/{model}, /datastore/) that 3D Slicer and OHIF speak. Every error is " +
        `one line of JSON {"error"}. Uploads up to ${limits.maxUploadBytes} bytes, ${limits.maxBoxes} boxes per request.`,
    },
    paths,
    components: { schemas },
  };
}
