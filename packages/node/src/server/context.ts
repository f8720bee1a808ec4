/** What the route handlers of `daft serve` share. */
import type { MemoryDatastore } from "./datastore.js";
import type { MemorySessions } from "./sessions.js";
import type { SegmentEngine } from "./engine.js";
import type { ServerLimits } from "./limits.js";

export interface ServerContext {
  engine: SegmentEngine;
  datastore: MemoryDatastore;
  /** MONAI Label sessions (PUT /session/), bounded by the same --datastore-mb. */
  sessions: MemorySessions;
  limits: ServerLimits;
  /** Version of the DAFT packages, reported by /api/v1/health and /info/. */
  version: string;
  /** The built web app (index.html and its assets); undefined or without index.html: not built. */
  webDir: string | undefined;
  /** One line per server fault (stack traces stay out of responses). */
  log: (line: string) => void;
}
