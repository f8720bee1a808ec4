import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { expertForModality, parseManifest } from "@daft/core";
import { boxDecoder, identityEncoder, writeOracleModelDir } from "../packages/node/src/testing/index.js";

const script = join(import.meta.dirname, "modality_entry.mjs");
const repoRoot = join(import.meta.dirname, "..");

describe("modality_entry", () => {
  it("gives a modality its own entry on the fallback's files, leaving the fallback as it was", async () => {
    const models = join(mkdtempSync(join(tmpdir(), "daft-entry-")), "models");
    await writeOracleModelDir(models, { name: "general", encoder: identityEncoder(), decoder: boxDecoder() });
    const path = join(models, "manifest.json");
    const before = parseManifest(JSON.parse(readFileSync(path, "utf8")));
    const run = (...args: string[]) =>
      spawnSync("node", [script, "--models", models, ...args], { cwd: repoRoot, encoding: "utf8" });
    const r = run("--from", "general", "--name", "Fundus", "--modalities", "Fundus");
    expect(r.status, r.stderr).toBe(0);
    const after = parseManifest(JSON.parse(readFileSync(path, "utf8")));
    const fundus = after.experts.find((e) => e.name === "Fundus")!;
    const general = after.experts.find((e) => e.name === "general")!;
    expect(fundus.modalities).toEqual(["Fundus"]);
    expect(fundus.encoder).toEqual(general.encoder);
    expect(fundus.decoder).toEqual(general.decoder);
    expect(general).toEqual(before.experts[0]);
    expect(expertForModality(after, "fundus")).toBe("Fundus");
    expect(expertForModality(after, "OCT")).toBe(after.fallback);
    // A second entry for a modality that already has one, or an unknown source, is refused; nothing changes.
    const again = run("--from", "general", "--name", "Fundus2", "--modalities", "Fundus");
    expect(again.status).not.toBe(0);
    expect(again.stderr).toMatch(/expert "Fundus" already serves Fundus/);
    expect(run("--from", "nope", "--name", "X", "--modalities", "X").stderr).toMatch(/no expert "nope"/);
    expect(parseManifest(JSON.parse(readFileSync(path, "utf8")))).toEqual(after);
  }, 60_000);
});
