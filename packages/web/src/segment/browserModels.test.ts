import { OrtExpert, ParallelExpert, type OrtRuntime } from "@daft/core";
import { describe, expect, it } from "vitest";
import validManifest from "../../../../fixtures/manifest/valid.json";
import { BrowserModelStore, sha256Hex, type RuntimeChoice } from "./browserModels.js";

const BASE = "http://127.0.0.1:8040/models/";
const encoder = Uint8Array.of(1, 2, 3);
const decoder = Uint8Array.of(4, 5, 6);

/** The fixture manifest with the general expert's hashes set to the fake files' and no selector or subsets. */
async function manifest() {
  const m = structuredClone(validManifest);
  m.experts[0]!.encoder.sha256 = await sha256Hex(encoder);
  m.experts[0]!.decoder.sha256 = await sha256Hex(decoder);
  const { selector: _selector, subsets: _subsets, ...routing } = m.routing;
  return { ...m, routing: routing as typeof m.routing & { selector?: string } };
}

function fetcher(files: Record<string, Uint8Array | string>, log: string[] = []) {
  return async (url: string) => {
    log.push(url);
    const body = files[url.slice(BASE.length)];
    return body === undefined ? new Response("", { status: 404 }) : new Response(body as BodyInit);
  };
}

/** An onnxruntime stand-in whose sessions follow the model contract and remember their bytes and options. */
const created: { bytes: Uint8Array; options: unknown }[] = [];
const fakeOrt = {
  Tensor: class {},
  InferenceSession: {
    create: async (bytes: Uint8Array, options: unknown) => {
      created.push({ bytes, options });
      return { inputNames: ["image", "embedding", "boxes"], outputNames: ["embedding", "logits", "iou"] };
    },
  },
} as unknown as OrtRuntime;
const runtime: RuntimeChoice = {
  ort: fakeOrt,
  key: "wasm",
  sessionOptions: { executionProviders: ["wasm"] },
};

describe("models from /models/ in the browser", () => {
  it("reads the manifest, checks each ONNX file's sha256 and makes the sessions once per expert", async () => {
    const log: string[] = [];
    const files = {
      "manifest.json": JSON.stringify(await manifest()),
      "general/encoder.onnx": encoder,
      "general/decoder.onnx": decoder,
    };
    const store = await BrowserModelStore.open(BASE, fetcher(files, log));
    expect(store.selector).toBeUndefined();
    created.length = 0;
    const expert = await store.load("general", runtime);
    expect(expert.name).toBe("general");
    expect(created.map((c) => [...c.bytes])).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(created[0]!.options).toEqual({ executionProviders: ["wasm"] });
    expect(await store.load("general", runtime)).toBe(expert);
    expect(log.filter((url) => url.endsWith(".onnx"))).toHaveLength(2);
  });

  it("runs the sessions side by side on Web Workers where the runtime offers them (the core's ParallelExpert)", async () => {
    const files = {
      "manifest.json": JSON.stringify(await manifest()),
      "general/encoder.onnx": encoder,
      "general/decoder.onnx": decoder,
    };
    const store = await BrowserModelStore.open(BASE, fetcher(files));
    const spawned: unknown[] = [];
    const sideBySide: RuntimeChoice = {
      ...runtime,
      key: "wasm-2",
      sideBySide: {
        threads: 2,
        spawn: async (init) => (spawned.push(init), Promise.reject(new Error("no"))),
      },
    };
    expect(await store.load("general", sideBySide)).toBeInstanceOf(ParallelExpert);
    expect(await store.load("general", runtime)).toBeInstanceOf(OrtExpert);
    const one = { ...sideBySide, key: "wasm-1", sideBySide: { ...sideBySide.sideBySide!, threads: 1 } };
    expect(await store.load("general", one)).toBeInstanceOf(OrtExpert);
    expect(spawned).toEqual([]); // no worker before a case has the work for one
  });

  it("refuses a corrupt or missing model file, naming its URL", async () => {
    const files = {
      "manifest.json": JSON.stringify(await manifest()),
      "general/encoder.onnx": Uint8Array.of(9),
      "general/decoder.onnx": decoder,
    };
    const store = await BrowserModelStore.open(BASE, fetcher(files));
    await expect(store.load("general", runtime)).rejects.toThrow(
      /general\/encoder\.onnx: sha256 [0-9a-f]{64} does not match manifest\.json/,
    );
    const missing = await BrowserModelStore.open(
      BASE,
      fetcher({ "manifest.json": JSON.stringify(await manifest()) }),
    );
    await expect(missing.load("general", runtime)).rejects.toThrow(
      /encoder\.onnx: model file listed in manifest\.json is missing \(HTTP 404\)/,
    );
    await expect(missing.load("nobody", runtime)).rejects.toThrow(/no expert named "nobody"/);
  });

  it("says which file is wrong when the manifest or the selector is", async () => {
    await expect(BrowserModelStore.open(BASE, fetcher({}))).rejects.toThrow(
      `${BASE}manifest.json: no manifest.json here (HTTP 404)`,
    );
    await expect(BrowserModelStore.open(BASE, fetcher({ "manifest.json": "{" }))).rejects.toThrow(
      /manifest\.json: not valid JSON/,
    );
    const withSelector = { ...(await manifest()) };
    withSelector.routing = { ...withSelector.routing, selector: "selector.json" };
    const files = { "manifest.json": JSON.stringify(withSelector), "selector.json": '{"format":"nope"}' };
    await expect(BrowserModelStore.open(BASE, fetcher(files))).rejects.toThrow(
      /selector\.json: invalid selector/,
    );
  });

  it("loads the cluster subsets the manifest names, as the CLI's model store does", async () => {
    const subsets = {
      format: "daft-subsets",
      version: 1,
      criterion: "test",
      seed: 0,
      groups: { "2d": null, "3d": null },
    };
    const withSubsets = { ...(await manifest()) };
    withSubsets.routing = { ...withSubsets.routing, subsets: "subsets.json" } as typeof withSubsets.routing;
    const good = { "manifest.json": JSON.stringify(withSubsets), "subsets.json": JSON.stringify(subsets) };
    expect((await BrowserModelStore.open(BASE, fetcher(good))).subsets).toEqual(subsets);
    const bad = { ...good, "subsets.json": '{"format":"daft-subsets"}' };
    await expect(BrowserModelStore.open(BASE, fetcher(bad))).rejects.toThrow(
      /subsets\.json: invalid subsets file/,
    );
    const missing = { "manifest.json": JSON.stringify(withSubsets) };
    await expect(BrowserModelStore.open(BASE, fetcher(missing))).rejects.toThrow(
      /subsets\.json: not found \(HTTP 404\)/,
    );
  });
});
