import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { defaultModelsDir, ModelStore } from "../runtime/modelStore.js";
import { createDaftHandler } from "../server/handler.js";
import { DEFAULT_LIMITS } from "../server/limits.js";
import { serveNode } from "../server/nodeAdapter.js";
import { daftVersion, defaultWebDir, isLoopbackHost } from "../server/paths.js";
import { messageLine, parseCommandLine } from "./common.js";

export const HELP = `usage: daft serve [options]

Serves the DAFT web app and an HTTP API on this machine (127.0.0.1 by default): the native JSON API the web app
uses (/api/v1/health, /api/v1/segment), the MONAI Label conventions 3D Slicer and OHIF speak (/info/,
/infer/{model}, /datastore/, /session/), the models folder (/models/...) and the API's OpenAPI description (/openapi.json).
Inference runs one request at a time; label maps are the ones daft segment writes for the same input and boxes.
Prints "daft serve: http://HOST:PORT/" once listening; Ctrl-C stops it.

options:
  --port <n>            port (default 8040; 0 picks a free one)
  --host <address>      address to bind (default 127.0.0.1); another than loopback needs --allow-remote
  --allow-remote        allow binding a non-loopback address (anyone who can reach it can use the server)
  --models <dir>        models folder with manifest.json (default: the shipped models, or $DAFT_MODELS)
  --web <dir>           the built web app (default packages/web/dist; if missing, / says how to build it)
  --max-upload-mb <n>   largest request body (default ${DEFAULT_LIMITS.maxUploadBytes / 2 ** 20})
  --max-boxes <n>       most boxes per request (default ${DEFAULT_LIMITS.maxBoxes})
  --max-queue <n>       inference requests that may wait; more get 503 (default ${DEFAULT_LIMITS.maxQueue})
  --datastore-mb <n>    memory for images uploaded to /datastore/, and again for /session/ (default ${DEFAULT_LIMITS.datastoreBytes / 2 ** 20})
  --cache-mb <n>        bound of the slice embedding cache (default 1024)
  --threads <n>         cores to use (default: all): models side by side on up to 4 threads, as daft segment;
                        worker threads for compressed DICOM series
  -h, --help            this help`;

export async function main(args: string[]): Promise<number> {
  const parsed = parseCommandLine(
    "daft serve",
    {
      args,
      options: {
        port: { type: "string", default: "8040" },
        host: { type: "string", default: "127.0.0.1" },
        "allow-remote": { type: "boolean", default: false },
        models: { type: "string" },
        web: { type: "string" },
        "max-upload-mb": { type: "string" },
        "max-boxes": { type: "string" },
        "max-queue": { type: "string" },
        "datastore-mb": { type: "string" },
        "cache-mb": { type: "string" },
        threads: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    },
    HELP,
    { helpOnError: true },
  );
  if (typeof parsed === "number") return parsed;
  const o = parsed.values;

  const numbers: [string, string | undefined, number, (v: number) => boolean][] = [
    ["--port", o.port, 8040, (v) => Number.isInteger(v) && v >= 0 && v <= 65535],
    ["--max-upload-mb", o["max-upload-mb"], DEFAULT_LIMITS.maxUploadBytes / 2 ** 20, (v) => v > 0],
    ["--max-boxes", o["max-boxes"], DEFAULT_LIMITS.maxBoxes, (v) => Number.isInteger(v) && v >= 1],
    ["--max-queue", o["max-queue"], DEFAULT_LIMITS.maxQueue, (v) => Number.isInteger(v) && v >= 0],
    ["--datastore-mb", o["datastore-mb"], DEFAULT_LIMITS.datastoreBytes / 2 ** 20, (v) => v > 0],
    ["--cache-mb", o["cache-mb"], 1024, (v) => v > 0],
    ["--threads", o.threads, availableParallelism(), (v) => Number.isInteger(v) && v >= 1],
  ];
  const value: Record<string, number> = {};
  for (const [name, text, fallback, valid] of numbers) {
    const v = text === undefined ? fallback : Number(text);
    if (!valid(v)) {
      process.stderr.write(`daft serve: ${name} "${text}" is not a valid value\n`);
      return 2;
    }
    value[name] = v;
  }
  const host = o.host!;
  if (!isLoopbackHost(host) && !o["allow-remote"]) {
    process.stderr.write(
      `daft serve: --host ${host} is reachable from other machines; add --allow-remote if that is intended\n`,
    );
    return 2;
  }

  let store: ModelStore;
  try {
    store = await ModelStore.open(resolve(o.models ?? defaultModelsDir()), { threads: value["--threads"]! });
  } catch (error) {
    process.stderr.write(`${messageLine(error)}\n`);
    return 1;
  }
  const mb = 2 ** 20;
  const limits = {
    maxUploadBytes: Math.round(value["--max-upload-mb"]! * mb),
    maxBoxes: value["--max-boxes"]!,
    maxQueue: value["--max-queue"]!,
    datastoreBytes: Math.round(value["--datastore-mb"]! * mb),
  };
  const handler = createDaftHandler({
    models: store,
    decodeThreads: value["--threads"]!,
    version: daftVersion(),
    webDir: o.web ? resolve(o.web) : defaultWebDir(),
    limits,
    cacheBytes: Math.round(value["--cache-mb"]! * mb),
  });
  let running;
  try {
    running = await serveNode(handler, { host, port: value["--port"]!, maxBodyBytes: limits.maxUploadBytes });
  } catch (error) {
    process.stderr.write(`daft serve: cannot listen on ${host}:${value["--port"]}: ${messageLine(error)}\n`);
    await store.dispose();
    return 1;
  }
  process.stdout.write(`daft serve: ${running.url}\n`);

  await new Promise<void>((done) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      done();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  // Close gracefully: stop accepting, let requests in flight finish (at most 10 s), release the sessions.
  const closed = running.close();
  const deadline = setTimeout(() => running.server.closeAllConnections(), 10_000);
  await closed.catch(() => undefined);
  clearTimeout(deadline);
  await store.dispose();
  process.stderr.write("daft serve: stopped\n");
  return 0;
}
