/**
 * End to end: the real `daft segment` process routes by NIfTI header text (rule "metadata") and, with a manifest
 * whose routing.subsets names a `daft subsets propose` file, by nearest cluster (rule "cluster"); timings.csv and
 * --explain record the rule. Oracle experts paint the boxes, so only the routing is under test.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  DEFAULT_NIFTI_HEADER_RULES,
  decodeChallengeCase,
  metaFeaturesOfCase,
  proposeSubsets,
  writeNifti,
  writeNpz,
  type NdArray,
  type SubsetCase,
} from "@daft/core";
import { boxDecoder, identityEncoder, writeOracleModelDir } from "../src/testing/index.js";
import { daft, repoRoot, tempDir } from "./helpers.js";

const { filenameRules } = JSON.parse(
  readFileSync(join(repoRoot, "fixtures/manifest/valid.json"), "utf8"),
).routing;
const oracle = (name: string, modalities: string[]) => ({
  name,
  modalities,
  encoder: identityEncoder(),
  decoder: boxDecoder(),
});

/** timings.csv rows as objects. */
function timings(dir: string): Record<string, string>[] {
  const [header, ...rows] = readFileSync(join(dir, "timings.csv"), "utf8").trim().split("\n");
  const keys = header!.split(",");
  return rows.map((row) => Object.fromEntries(row.split(",").map((v, i) => [keys[i], v])));
}

describe("daft segment routes a NIfTI by its header text", () => {
  let models = "";
  let dir = "";
  beforeAll(async () => {
    dir = tempDir("daft-nifti-route-");
    models = join(dir, "models");
    // The general expert and an MR expert; no niftiHeaderRules in the options: the default table applies.
    const manifest = await writeOracleModelDir(models, [oracle("general", ["*"]), oracle("MR", ["MR"])], {
      filenameRules,
    });
    expect(manifest.routing.niftiHeaderRules).toEqual(DEFAULT_NIFTI_HEADER_RULES);
    const volume = new Int16Array(32 * 24 * 6).map((_, i) => (i * 13) % 700);
    const write = (name: string, descrip: string) =>
      writeFileSync(join(dir, name), writeNifti(volume, [32, 24, 6], { gzip: true, text: { descrip } }));
    write("3DBox_CT_header-says-mr.nii.gz", "T1 MPRAGE");
    write("3DBox_CT_tool-descrip.nii.gz", "FSL5.0");
    write("dcm2niix_series.nii.gz", "TE=30;Time=140523.000;phase=1");
    write("anonymous.nii.gz", "");
  });

  it("records rule 'metadata' in timings.csv and the field in --explain; no match falls through", () => {
    const out = join(dir, "out");
    const inputs = [
      "3DBox_CT_header-says-mr.nii.gz",
      "3DBox_CT_tool-descrip.nii.gz",
      "dcm2niix_series.nii.gz",
      "anonymous.nii.gz",
    ].map((n) => join(dir, n));
    const r = daft([
      "segment",
      ...inputs,
      "-o",
      out,
      "--models",
      models,
      "--box",
      "2,3,1,20,18,4",
      "--explain",
      "--quiet",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      `3DBox_CT_header-says-mr.nii.gz: 3D 6×24×32, 1 box(es) → expert "MR" (rule metadata: NIfTI descrip 'T1 MPRAGE' → MR; modality MR)`,
    );
    const rows = timings(out);
    expect(rows.map((row) => [row["case"], row["modality"], row["expert"], row["route"]])).toEqual([
      ["3DBox_CT_header-says-mr.nii.gz", "MR", "MR", "metadata"], // the header beats the file name
      ["3DBox_CT_tool-descrip.nii.gz", "CT", "general", "filename"], // "FSL5.0" says nothing
      ["dcm2niix_series.nii.gz", "MR", "MR", "metadata"],
      ["anonymous.nii.gz", "", "general", "fallback"],
    ]);
    for (const row of rows) {
      expect(Number(row["total_ms"])).toBeGreaterThan(0);
      expect(Number(row["preprocess_ms"])).toBeGreaterThanOrEqual(0);
    }
  });
});

describe("daft segment routes by cluster with a manifest's routing.subsets", () => {
  const H = 64;
  const W = 64;
  /** Bright grey gradients vs dark reddish RGB: two clusters of meta-features. */
  function picture(kind: "grey" | "red", seed: number): Record<string, NdArray> {
    const imgs: NdArray =
      kind === "grey"
        ? {
            data: new Uint8Array(H * W).map((_, i) => 150 + ((i * 7 + seed) % 90)),
            shape: [H, W],
            dtype: "uint8",
          }
        : {
            data: new Uint8Array(H * W * 3).map((_, i) =>
              i % 3 === 0 ? 90 + ((i + seed) % 60) : (i + seed) % 25,
            ),
            shape: [H, W, 3],
            dtype: "uint8",
          };
    const boxes: NdArray = {
      data: Int32Array.from([8, 8, 40 + (seed % 10), 44]),
      shape: [1, 4],
      dtype: "int32",
    };
    return { imgs, boxes };
  }

  let dir = "";
  let models = "";
  let greyCluster = "";
  beforeAll(async () => {
    dir = tempDir("daft-cluster-route-");
    models = join(dir, "models");
    const members: SubsetCase[] = [];
    for (const kind of ["grey", "red"] as const) {
      for (let seed = 0; seed < 6; seed++) {
        const kase = decodeChallengeCase(new Map(Object.entries(picture(kind, seed))), "train");
        const f = metaFeaturesOfCase(kase);
        members.push({ id: `${kind}/${seed}`, dataset: kind, modality: "X", dimension: 2, values: f.values });
      }
    }
    const subsets = proposeSubsets(members, { k: 2 });
    const clusters = subsets.groups["2d"]!.subsets;
    greyCluster = Object.keys(clusters).find((name) => clusters[name]!.cases.includes("grey/0"))!;
    expect(clusters[greyCluster]!.cases.every((id) => id.startsWith("grey/"))).toBe(true);
    // general + an expert for the grey cluster only (no modalities: reached by the cluster rule) + Endoscopy.
    const manifest = await writeOracleModelDir(
      models,
      [oracle("general", ["*"]), oracle("grey-expert", []), oracle("Endoscopy", ["Endoscopy"])],
      { filenameRules },
    );
    const withClusters = {
      ...manifest,
      experts: manifest.experts.map((e) => (e.name === "grey-expert" ? { ...e, subset: greyCluster } : e)),
      routing: { ...manifest.routing, subsets: "subsets.json" },
    };
    writeFileSync(join(models, "manifest.json"), `${JSON.stringify(withClusters, null, 2)}\n`);
    writeFileSync(join(models, "subsets.json"), JSON.stringify(subsets));
    const write = (name: string, kind: "grey" | "red") =>
      writeFileSync(join(dir, name), writeNpz(picture(kind, 7), { compress: true }));
    write("2DBox_XRay_grey.npz", "grey"); // file name → XRay, no XRay expert → cluster
    write("2DBox_Endoscopy_grey.npz", "grey"); // file name → Endoscopy, which has its own expert
    write("unnamed_grey.npz", "grey"); // no rule → cluster
    write("unnamed_red.npz", "red"); // the red cluster has no expert → general, by the cluster rule
  });

  it("sends cases that the modality rules leave to the fallback to their cluster's expert", () => {
    const out = join(dir, "out");
    const names = ["2DBox_XRay_grey.npz", "2DBox_Endoscopy_grey.npz", "unnamed_grey.npz", "unnamed_red.npz"];
    const r = daft([
      "segment",
      ...names.map((n) => join(dir, n)),
      "-o",
      out,
      "--models",
      models,
      "--explain",
      "--quiet",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(timings(out).map((row) => [row["case"], row["modality"], row["expert"], row["route"]])).toEqual([
      ["2DBox_XRay_grey.npz", "XRay", "grey-expert", "cluster"],
      ["2DBox_Endoscopy_grey.npz", "Endoscopy", "Endoscopy", "filename"],
      ["unnamed_grey.npz", "", "grey-expert", "cluster"],
      ["unnamed_red.npz", "", "general", "cluster"],
    ]);
    expect(r.stdout).toMatch(
      new RegExp(
        `2DBox_XRay_grey\\.npz: .* → expert "grey-expert" \\(rule cluster: file name contains .* ` +
          `\\(no expert of its own for XRay\\); nearest cluster ${greyCluster} \\(distance [0-9.]+\\)`,
      ),
    );
    expect(r.stdout).toMatch(
      /unnamed_red\.npz: .*nearest cluster 2d-cluster-\d \(distance [0-9.]+\), which has no expert/,
    );
  });

  it("--expert still wins over the cluster rule", () => {
    const out = join(dir, "out-explicit");
    const r = daft([
      "segment",
      join(dir, "unnamed_grey.npz"),
      "-o",
      out,
      "--models",
      models,
      "--expert",
      "general",
    ]);
    expect(r.code).toBe(0);
    expect(timings(out)[0]).toMatchObject({ expert: "general", route: "explicit-expert" });
  });
});
