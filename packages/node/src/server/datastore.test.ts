import { describe, expect, it } from "vitest";
import { imageIdFromFileName, isValidImageId, MemoryDatastore } from "./datastore.js";
import { HttpError } from "./responses.js";

describe("MemoryDatastore", () => {
  it("stores, returns and lists images; replacing an id does not count it twice", () => {
    const store = new MemoryDatastore(100);
    store.add("a", "a.nii.gz", new Uint8Array(40));
    store.add("a", "a2.nii.gz", new Uint8Array(30));
    expect(store.get("a")?.fileName).toBe("a2.nii.gz");
    expect(store.bytes).toBe(30);
    expect(store.ids()).toEqual(["a"]);
    expect(store.status()).toEqual({ total: 1, completed: 0, label_tags: {}, bytes: 30, limit_bytes: 100 });
  });

  it("drops the least recently used images to stay within its bound", () => {
    const store = new MemoryDatastore(100);
    store.add("a", "a.npz", new Uint8Array(40));
    store.add("b", "b.npz", new Uint8Array(40));
    store.get("a");
    store.add("c", "c.npz", new Uint8Array(40));
    expect(store.ids()).toEqual(["a", "c"]);
    expect(store.bytes).toBe(80);
  });

  it("refuses an image larger than the whole store (413) and an id with path characters (400)", () => {
    const store = new MemoryDatastore(10);
    expect(() => store.add("big", "big.npz", new Uint8Array(11))).toThrow(HttpError);
    try {
      store.add("../x", "x.npz", new Uint8Array(1));
      expect.unreachable();
    } catch (e) {
      expect((e as HttpError).status).toBe(400);
    }
  });
});

describe("image ids", () => {
  it("accept plain names only", () => {
    for (const id of ["case_01", "CT.scan-2", "0"]) expect(isValidImageId(id)).toBe(true);
    for (const id of [
      "",
      ".",
      "..",
      "../a",
      "a/b",
      "a\\b",
      "a\0b",
      ".hidden",
      "-x",
      "x".repeat(129),
      "a b",
    ]) {
      expect(isValidImageId(id), JSON.stringify(id)).toBe(false);
    }
  });

  it("are derived from file names like MONAI Label (extension removed), made valid", () => {
    expect(imageIdFromFileName("ct_001.nii.gz")).toBe("ct_001");
    expect(imageIdFromFileName("photo.jpg")).toBe("photo");
    expect(imageIdFromFileName("my scan (2).nii")).toBe("my_scan__2_");
    expect(imageIdFromFileName("..nii.gz")).toBe("image");
  });
});
