/**
 * End to end: the real `daft serve` process on a free port with oracle experts, spoken to over HTTP on
 * 127.0.0.1, its label maps compared with what the real `daft segment` process writes for the same input and boxes.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gunzipSync } from "fflate";
import { readNifti, readNpz, shortestFloat32, writeNifti } from "@daft/core";
import { identityEncoder, intensityInBoxDecoder, writeOracleModelDir } from "../src/testing/index.js";
import { daft, daftBin, repoRoot, tempDir } from "./helpers.js";

const cases = join(repoRoot, "examples/cases/imgs");
const US_CASE = "2DBox_US_hc18-fetal-head_hc18_0047.npz";
const MR_CASE = "3DBox_MR_msd-hippocampus_hippo_0021.npz";

let root: string;
let models: string;
let server: ChildProcess;
let url: string;
let stderr = "";

beforeAll(async () => {
  root = tempDir("daft-serve-e2e-");
  models = join(root, "models");
  const { filenameRules } = JSON.parse(
    readFileSync(join(repoRoot, "fixtures/manifest/valid.json"), "utf8"),
  ).routing;
  // "Bright pixels inside the box": the answer depends on the image and its preprocessing, not only on the box.
  await writeOracleModelDir(
    models,
    { name: "general", encoder: identityEncoder(), decoder: intensityInBoxDecoder() },
    { filenameRules },
  );
  server = spawn(process.execPath, [daftBin, "serve", "--port", "0", "--models", models, "--threads", "1"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  server.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  url = await new Promise<string>((resolve, reject) => {
    let out = "";
    server.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /^daft serve: (http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(out);
      if (m) resolve(m[1]!);
    });
    server.on("exit", (code) => reject(new Error(`daft serve exited (${code}): ${stderr}`)));
  });
});

afterAll(() => {
  if (server.exitCode === null) server.kill("SIGKILL");
});

/**
 * `daft segment` on one input with the same models and threads; the label map file it wrote. Run without blocking
 * this process's event loop (the HTTP client's connection timers keep running).
 */
async function cliSegment(input: string, extra: string[], outName: string): Promise<Buffer> {
  const out = join(tempDir("daft-serve-cli-"), "out");
  const args = [
    daftBin,
    "segment",
    input,
    "-o",
    out,
    "--models",
    models,
    "--threads",
    "1",
    "--quiet",
    ...extra,
  ];
  const { code, stderr: err } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] });
    let text = "";
    child.stderr!.on("data", (d: Buffer) => (text += d.toString()));
    child.on("exit", (exitCode) => resolve({ code: exitCode, stderr: text }));
  });
  expect(err).toBe("");
  expect(code).toBe(0);
  return readFileSync(join(out, outName));
}

function upload(field: string, path: string, name: string): FormData {
  const form = new FormData();
  form.append(field, new Blob([readFileSync(path)]), name);
  return form;
}

describe("daft serve command line", () => {
  it("prints its help, refuses a non-loopback host without --allow-remote and bad numbers", () => {
    const help = daft(["serve", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: daft serve \[options\]/);
    expect(help.stdout).toContain("--allow-remote");
    const remote = daft(["serve", "--host", "0.0.0.0", "--models", models]);
    expect(remote.code).toBe(2);
    expect(remote.stderr).toBe(
      "daft serve: --host 0.0.0.0 is reachable from other machines; add --allow-remote if that is intended\n",
    );
    const port = daft(["serve", "--port", "http", "--models", models]);
    expect(port.code).toBe(2);
    expect(port.stderr).toBe('daft serve: --port "http" is not a valid value\n');
    const noModels = daft(["serve", "--port", "0", "--models", join(root, "nowhere")]);
    expect(noModels.code).toBe(1);
    expect(noModels.stderr).toMatch(/nowhere\/manifest\.json: no manifest\.json here/);
  });
});

describe("daft serve (real process, real HTTP)", () => {
  it("binds to 127.0.0.1 and answers /api/v1/health and /info/", async () => {
    const health = await fetch(`${url}api/v1/health`);
    expect(await health.json()).toEqual({ ok: true, version: "0.1.0", models });
    expect(health.headers.get("cross-origin-opener-policy")).toBe("same-origin");
    const info = (await (await fetch(`${url}info/`)).json()) as {
      models: Record<string, { dimension: number }>;
    };
    expect(Object.keys(info.models)).toEqual(["daft", "general"]);
    expect(info.models["general"]!.dimension).toBe(3);
  });

  it("POST /api/v1/segment on an example case gives the very file daft segment writes (its own boxes)", async () => {
    const form = upload("file", join(cases, US_CASE), US_CASE);
    form.append("request", "{}");
    const response = await fetch(`${url}api/v1/segment`, { method: "POST", body: form });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      fileName: string;
      output: string;
      record: { route: { expert: string } };
    };
    expect(body.fileName).toBe(US_CASE);
    const cli = await cliSegment(join(cases, US_CASE), [], US_CASE);
    expect(Buffer.from(body.output, "base64").equals(cli)).toBe(true);
    const segs = readNpz(cli).get("segs")!;
    expect(segs.data.some((v) => Number(v) === 1)).toBe(true); // the comparison is about a real mask
  });

  it("POST /infer/daft on an example volume: the NIfTI label map holds exactly daft segment's labels for the same boxes", async () => {
    const boxes = [
      [5, 26, 4, 26, 44, 17],
      [4, 5, 8, 26, 25, 27],
    ];
    const form = upload("file", join(cases, MR_CASE), MR_CASE);
    form.append("params", JSON.stringify({ boxes }));
    const response = await fetch(`${url}infer/daft?output=all`, { method: "POST", body: form });
    expect(response.status).toBe(200);
    const parts = await response.formData();
    const params = JSON.parse(String(parts.get("params"))) as {
      expert: string;
      latencies: { total: number };
    };
    expect(params.expert).toBe("general");
    expect(params.latencies.total).toBeGreaterThan(0);
    const image = parts.get("image") as File;
    expect(image.name).toBe("3DBox_MR_msd-hippocampus_hippo_0021.nii.gz");
    const nifti = readNifti(gunzipSync(new Uint8Array(await image.arrayBuffer())), image.name);

    const cli = await cliSegment(
      join(cases, MR_CASE),
      boxes.flatMap((b) => ["--box", b.join(",")]),
      MR_CASE,
    );
    const segs = readNpz(cli).get("segs")!;
    expect(nifti.dims).toEqual([...segs.shape].reverse());
    expect(Array.from(nifti.data)).toEqual(Array.from(segs.data as Uint16Array));
    expect(new Set(Array.from(nifti.data))).toEqual(new Set([0, 1, 2]));
    const spacing = readNpz(readFileSync(join(cases, MR_CASE))).get("spacing")!.data as Float64Array;
    expect(nifti.pixdim.slice(0, 3)).toEqual(
      [...spacing].reverse().map((v) => shortestFloat32(Math.fround(v))),
    );
  });

  it("POST /infer/daft on a NIfTI volume returns byte for byte the .nii.gz daft segment writes", async () => {
    const volume = readNpz(readFileSync(join(cases, MR_CASE)));
    const imgs = volume.get("imgs")!;
    const [d, h, w] = imgs.shape as [number, number, number];
    const dir = tempDir("daft-serve-nifti-");
    mkdirSync(dir, { recursive: true });
    const input = join(dir, "hippo_MR.nii.gz");
    writeFileSync(
      input,
      writeNifti(imgs.data as Uint8Array, [w, h, d], { pixdim: [1.2, 1.1, 1.5], gzip: true }),
    );
    const boxes = [[5, 26, 4, 26, 44, 17]];

    const form = upload("file", input, "hippo_MR.nii.gz");
    form.append("params", JSON.stringify({ boxes }));
    const response = await fetch(`${url}infer/daft?output=image`, { method: "POST", body: form });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-disposition")).toMatch(/filename="hippo_MR\.nii\.gz"/);
    const served = Buffer.from(await response.arrayBuffer());
    const cli = await cliSegment(input, ["--box", boxes[0]!.join(",")], "hippo_MR.nii.gz");
    expect(served.equals(cli)).toBe(true);
  });

  it("refuses what it must over the wire (unknown model 404 with the upload read, traversal 400) and describes itself", async () => {
    const unknown = await fetch(`${url}infer/nope`, {
      method: "POST",
      body: upload("file", join(cases, US_CASE), US_CASE),
    });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: string }).error).toMatch(/^model "nope": no such model/);
    const traversal = await fetch(`${url}models/..%2f..%2fpackage.json`);
    expect(traversal.status).toBe(400);
    const openapi = await fetch(`${url}openapi.json`);
    expect(((await openapi.json()) as { openapi: string }).openapi).toBe("3.1.0");
  });

  it("stops gracefully on SIGTERM", async () => {
    const exited = new Promise<number | null>((resolve) => server.on("exit", (code) => resolve(code)));
    server.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(stderr).toContain("daft serve: stopped");
  });
});
