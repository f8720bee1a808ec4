/**
 * The minimal MONAI Label datastore of `daft serve`: uploaded images kept in memory under an id, so that
 * `POST /infer/{model}?image=<id>` can segment an image uploaded once. Bounded: the least recently used images
 * are dropped when the total would pass `maxBytes`. Nothing is written to disk.
 */
import { HttpError } from "./responses.js";
import { formatBytes } from "./limits.js";
import type { DatastoreAll, DatastoreStatus } from "./schemas.js";

export interface StoredImage {
  /** The upload's file name (routes the case by name and names the result, like a file given to the CLI). */
  fileName: string;
  bytes: Uint8Array;
  /** Seconds since the epoch when it was stored. */
  ts: number;
}

/** Ids are plain names: letters, digits, `_`, `-`, `.` (not first), at most 128 characters — no path characters. */
const IMAGE_ID = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

export function isValidImageId(id: string): boolean {
  return IMAGE_ID.test(id);
}

/** The id MONAI Label derives from a file name: its name without the extension(s), made a valid id. */
export function imageIdFromFileName(fileName: string): string {
  const stem = fileName.replace(/\.(nii\.gz|[A-Za-z0-9]+)$/, "");
  const id = stem
    .replace(/[^A-Za-z0-9_.-]/g, "_")
    .replace(/^[.-]+/, "")
    .slice(0, 128);
  return id || "image";
}

export class MemoryDatastore {
  /** Insertion order = recency: a read moves the entry to the end. */
  private readonly images = new Map<string, StoredImage>();
  private totalBytes = 0;

  constructor(readonly maxBytes: number) {}

  get bytes(): number {
    return this.totalBytes;
  }

  add(id: string, fileName: string, bytes: Uint8Array): void {
    if (!isValidImageId(id)) {
      throw new HttpError(
        400,
        `image "${id}": an id may hold letters, digits, "_", "-" and "." (not first), at most 128 characters`,
      );
    }
    if (bytes.byteLength > this.maxBytes) {
      throw new HttpError(
        413,
        `${fileName}: ${formatBytes(bytes.byteLength)} does not fit the datastore (${formatBytes(this.maxBytes)}, --datastore-mb)`,
      );
    }
    this.remove(id);
    while (this.totalBytes + bytes.byteLength > this.maxBytes) {
      const oldest = this.images.keys().next().value as string;
      this.remove(oldest);
    }
    this.images.set(id, { fileName, bytes, ts: Math.floor(Date.now() / 1000) });
    this.totalBytes += bytes.byteLength;
  }

  get(id: string): StoredImage | undefined {
    const image = this.images.get(id);
    if (image) {
      this.images.delete(id);
      this.images.set(id, image);
    }
    return image;
  }

  ids(): string[] {
    return [...this.images.keys()];
  }

  private remove(id: string): void {
    const image = this.images.get(id);
    if (!image) return;
    this.images.delete(id);
    this.totalBytes -= image.bytes.byteLength;
  }

  /** MONAI Label's `GET /datastore/` (stats): counts. */
  status(): DatastoreStatus {
    return {
      total: this.images.size,
      completed: 0,
      label_tags: {},
      bytes: this.totalBytes,
      limit_bytes: this.maxBytes,
    };
  }

  /** MONAI Label's `GET /datastore/?output=all`: every image with its info (no labels are kept). */
  json(): DatastoreAll {
    const objects: DatastoreAll["objects"] = {};
    for (const [id, image] of this.images) {
      const ext = /(\.nii\.gz|\.[A-Za-z0-9]+)$/.exec(image.fileName)?.[1] ?? "";
      objects[id] = {
        image: { ext, info: { name: image.fileName, size: image.bytes.byteLength, ts: image.ts } },
        labels: {},
      };
    }
    return {
      name: "daft serve (in memory)",
      description: `uploaded images kept in memory, least recently used dropped past ${formatBytes(this.maxBytes)}`,
      objects,
    };
  }
}
