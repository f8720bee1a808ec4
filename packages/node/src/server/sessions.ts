/**
 * MONAI Label sessions, in memory: `PUT /session/` uploads an image once (one file, or the files of a DICOM
 * series) and answers a session id; `POST /infer/{model}?session_id=…` then segments it without re-uploading.
 * This is how MONAI Label's client (3D Slicer's plugin) sends a volume the server's datastore does not hold.
 * Sessions expire (default one hour, or the client's `expiry` seconds) and share a byte bound: the oldest are
 * dropped when a new one would pass it. Nothing is written to disk.
 */
import { randomUUID } from "node:crypto";
import type { Upload } from "./engine.js";
import { formatBytes } from "./limits.js";
import { HttpError } from "./responses.js";
import type { SessionInfo } from "./schemas.js";

interface Session {
  uploads: Upload[];
  bytes: number;
  /** Seconds since the epoch. */
  created: number;
  lastAccess: number;
  expiry: number;
}

/** Session ids are the server's UUIDs; anything else is refused before a lookup. */
const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const DEFAULT_SESSION_EXPIRY_S = 3600;

export class MemorySessions {
  private readonly sessions = new Map<string, Session>();
  private totalBytes = 0;

  constructor(
    readonly maxBytes: number,
    private readonly nowSeconds: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  create(uploads: Upload[], expirySeconds: number): { id: string; info: SessionInfo } {
    this.dropExpired();
    const bytes = uploads.reduce((sum, u) => sum + u.bytes.byteLength, 0);
    if (bytes > this.maxBytes) {
      throw new HttpError(
        413,
        `files: ${formatBytes(bytes)} do not fit the session store (${formatBytes(this.maxBytes)}, --datastore-mb)`,
      );
    }
    while (this.totalBytes + bytes > this.maxBytes) this.remove(this.sessions.keys().next().value as string);
    const now = this.nowSeconds();
    const id = randomUUID();
    const expiry = expirySeconds > 0 ? expirySeconds : DEFAULT_SESSION_EXPIRY_S;
    this.sessions.set(id, { uploads, bytes, created: now, lastAccess: now, expiry });
    this.totalBytes += bytes;
    return { id, info: this.info(id)! };
  }

  /** The session's files; 404 for an unknown, malformed or expired id. Refreshes its expiry. */
  uploads(id: string): Upload[] {
    const session = this.live(id);
    session.lastAccess = this.nowSeconds();
    return session.uploads;
  }

  info(id: string): SessionInfo | undefined {
    const session = this.sessions.get(id);
    if (!session) return undefined;
    return {
      name: id,
      image: session.uploads.length === 1 ? session.uploads[0]!.fileName : `${session.uploads.length} files`,
      files: session.uploads.map((u) => u.fileName),
      bytes: session.bytes,
      create_ts: session.created,
      last_update_ts: session.lastAccess,
      expiry: session.expiry,
    };
  }

  /** Looks a session up for GET: 404 when unknown or expired. */
  get(id: string): SessionInfo {
    this.live(id);
    return this.info(id)!;
  }

  delete(id: string): SessionInfo {
    const info = this.get(id);
    this.remove(id);
    return info;
  }

  get count(): number {
    return this.sessions.size;
  }

  private live(id: string): Session {
    this.dropExpired();
    const session = SESSION_ID.test(id) ? this.sessions.get(id) : undefined;
    if (!session) throw new HttpError(404, `session "${id}": not found (expired, deleted or never created)`);
    return session;
  }

  private dropExpired(): void {
    const now = this.nowSeconds();
    for (const [id, s] of this.sessions) if (now - s.lastAccess > s.expiry) this.remove(id);
  }

  private remove(id: string): void {
    const session = this.sessions.get(id);
    if (!session) return;
    this.sessions.delete(id);
    this.totalBytes -= session.bytes;
  }
}
