import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import * as z from "./zodMini.js";

const packagesDir = new URL("../..", import.meta.url).pathname;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory())
      return entry.name === "node_modules" || entry.name === "dist" ? [] : sourceFiles(path);
    return /\.ts$/.test(entry.name) ? [path] : [];
  });
}

describe("the schema library", () => {
  it("speaks English: a failed check names the limit", () => {
    const r = z.object({ offset: z.number().check(z.lte(10)) }).safeParse({ offset: 99 });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.message).toBe("Too big: expected number to be <=10");
  });

  it("is the only way any package imports zod (full zod would bring its 40 locales back into the CLI bundle)", () => {
    const offenders = ["core", "node", "web"]
      .flatMap((p) => sourceFiles(join(packagesDir, p, "src")))
      .filter((file) => !file.endsWith("/core/src/zodMini.ts"))
      .filter((file) => /from\s+["']zod(\/[^"']*)?["']/.test(readFileSync(file, "utf8")))
      .map((file) => relative(packagesDir, file));
    expect(offenders).toEqual([]);
  });
});
