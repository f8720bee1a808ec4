/**
 * `createDaftHandler(options)`: the whole `daft serve` application as one function from a web-standard Request to
 * a Response — no sockets, so tests call it directly with `new Request(…)` and any runtime adapter can host it
 * (serveNode for node:http). Every response is a proper status with the security headers; a bad request never
 * throws out of the handler, and a server fault is a one-line 500.
 */
import type { ServerContext } from "./context.js";
import { MemoryDatastore } from "./datastore.js";
import { MemorySessions } from "./sessions.js";
import { SegmentEngine, type ModelSource } from "./engine.js";
import { DEFAULT_LIMITS, type ServerLimits } from "./limits.js";
import { monaiRoutes } from "./monaiApi.js";
import { nativeRoutes } from "./nativeApi.js";
import { buildOpenApi } from "./openapi.js";
import { InferenceQueue } from "./queue.js";
import { errorResponse, HttpError, oneLine, withSecurityHeaders } from "./responses.js";
import { Router, type Route } from "./router.js";
import { webRoutes } from "./webRoutes.js";

export interface DaftHandlerOptions {
  /** The experts (a ModelStore). */
  models: ModelSource;
  /** Reported by /api/v1/health, /info/ and /openapi.json. */
  version: string;
  /** The built web app; undefined (or no index.html in it): `/` answers "web app not built". */
  webDir?: string;
  limits?: Partial<ServerLimits>;
  /** Bound of the slice embedding cache per request (bytes; default 1 GiB, like daft segment). */
  cacheBytes?: number;
  /** The inference queue (default: a new one with limits.maxQueue waiting places). */
  queue?: InferenceQueue;
  /** Where server faults are reported (default: stderr). */
  log?: (line: string) => void;
  /** Worker threads that decode an uploaded compressed DICOM series (default 1: none, the main thread decodes). */
  decodeThreads?: number;
}

export type DaftHandler = ((request: Request) => Promise<Response>) & {
  readonly routes: readonly Route[];
  readonly openapi: Record<string, unknown>;
  readonly context: ServerContext;
};

export function createDaftHandler(options: DaftHandlerOptions): DaftHandler {
  const limits: ServerLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const queue = options.queue ?? new InferenceQueue(limits.maxQueue);
  const context: ServerContext = {
    engine: new SegmentEngine(
      options.models,
      queue,
      options.cacheBytes ?? 1024 * 1024 * 1024,
      options.decodeThreads ?? 1,
    ),
    datastore: new MemoryDatastore(limits.datastoreBytes),
    sessions: new MemorySessions(limits.datastoreBytes),
    limits,
    version: options.version,
    webDir: options.webDir,
    log: options.log ?? ((line) => process.stderr.write(`${line}\n`)),
  };
  let openapi: Record<string, unknown> | undefined;
  const routes: Route[] = [
    ...nativeRoutes(context),
    ...monaiRoutes(context),
    ...webRoutes(context, () => openapi),
  ];
  openapi = buildOpenApi(routes, options.version, limits);
  const router = new Router(routes);

  const handler = async (request: Request): Promise<Response> => {
    let response: Response;
    try {
      response = await dispatch(router, request);
    } catch (error) {
      response = errorToResponse(error, request, context.log);
    }
    if (request.method === "HEAD" && response.body) {
      await response.body.cancel().catch(() => undefined);
      response = new Response(null, { status: response.status, headers: response.headers });
    }
    return withSecurityHeaders(response);
  };
  return Object.assign(handler, { routes, openapi, context });
}

async function dispatch(router: Router, request: Request): Promise<Response> {
  const url = new URL(request.url);
  const match = router.match(request.method, url.pathname);
  if (match.kind === "none") throw new HttpError(404, `${url.pathname.slice(0, 200)}: no such route`);
  if (match.kind === "wrong-method") {
    throw new HttpError(
      405,
      `${url.pathname.slice(0, 200)}: method ${request.method} not allowed (${match.allow.join(", ")})`,
      {
        Allow: match.allow.join(", "),
      },
    );
  }
  return match.route.handle({ request, url, params: match.params });
}

function errorToResponse(error: unknown, request: Request, log: (line: string) => void): Response {
  if (error instanceof HttpError) return errorResponse(error.status, error.message, { ...error.headers });
  const message = oneLine(error instanceof Error ? error.message : String(error));
  let path = request.url;
  try {
    path = new URL(request.url).pathname;
  } catch {
    // keep the raw URL
  }
  log(
    `daft serve: ${request.method} ${path}: ${message}${error instanceof Error && error.stack ? `\n${error.stack}` : ""}`,
  );
  return errorResponse(500, `server error: ${message}`);
}
