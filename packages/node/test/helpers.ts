import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

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

export function tempDir(prefix = "daft-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
