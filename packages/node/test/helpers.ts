import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  boxDecoder,
  identityEncoder,
  intensityInBoxDecoder,
  writeOracleModelDir,
} from "../src/testing/index.js";

export const repoRoot = join(import.meta.dirname, "../../..");
export const daftBin = join(repoRoot, "packages/node/bin/daft.js");

/** Runs the real, built CLI as a fresh process (as a user would). */
export function daft(args: string[], opts: { env?: Record<string, string> } = {}) {
  const r = spawnSync(process.execPath, [daftBin, ...args], {
    encoding: "utf8",
    env: { ...process.env, ...opts.env },
    timeout: 120_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Runs a Python snippet with /usr/bin/python3 (Debian's, with nibabel, pydicom, numpy) and this folder on PYTHONPATH
 * (synthetic_inputs.py); returns its stdout, or throws with its stderr.
 */
export function runPython(script: string, args: string[]): string {
  const r = spawnSync("/usr/bin/python3", ["-c", script, ...args], {
    encoding: "utf8",
    env: { ...process.env, PYTHONPATH: import.meta.dirname },
  });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  return r.stdout;
}

export function tempDir(prefix = "daft-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * The two oracle model folders the clinical-format tests segment with, in `dir`: `box` (the box itself as the
 * mask) and `bright` (the pixels above 0.75 of the normalised image inside the box).
 */
export async function writeBoxAndBrightModels(
  dir: string,
): Promise<{ boxModels: string; brightModels: string }> {
  const boxModels = join(dir, "models-box");
  const brightModels = join(dir, "models-bright");
  await writeOracleModelDir(boxModels, {
    name: "general",
    encoder: identityEncoder(),
    decoder: boxDecoder(),
  });
  await writeOracleModelDir(brightModels, {
    name: "general",
    encoder: identityEncoder(),
    decoder: intensityInBoxDecoder({ threshold: 0.75 }),
  });
  return { boxModels, brightModels };
}

/** The tables every `daft segment` run writes into its output folder, whatever happened to the inputs. */
export const RUN_TABLES = ["objects.csv", "timings.csv"];

/** A folder listing without the run tables: the files written for the inputs. */
export function withoutRunTables(files: string[]): string[] {
  return files.filter((f) => !RUN_TABLES.includes(f));
}
