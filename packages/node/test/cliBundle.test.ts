/**
 * The CLI bundle (dist/bundle, what `daft` runs) keeps the picture decoders and DICOM's pixel decompressors out of
 * what a fresh `daft segment` process imports before its first case: they load on first use (core
 * io/codecModules.ts). A static import of raster.ts or dicomPixels.ts anywhere on the segment command's path would
 * bring them back without failing any other test — only start-up time would grow — so this walks the bundle.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "./helpers.js";

const bundle = join(repoRoot, "packages/node/dist/bundle");

/** esbuild's path comments name the modules in a chunk (the bundle is not minified). */
const CODEC_MODULES = [
  "packages/core/dist/io/raster.js",
  "packages/core/dist/io/dicomPixels.js",
  "node_modules/utif2/",
  "node_modules/jpeg-js/",
  "node_modules/fast-png/",
];

/** The files a chunk imports statically (`import … from "./x.js"`, `import "./x.js"`), not through import(). */
function staticImports(file: string): string[] {
  const source = readFileSync(file, "utf8");
  const specifiers = [...source.matchAll(/^(?:import|export)\s(?:[^;]*?\sfrom\s*)?"(\.{1,2}\/[^"]+)";/gms)];
  return specifiers.map((m) => resolve(dirname(file), m[1]!));
}

function dynamicImports(file: string): string[] {
  const source = readFileSync(file, "utf8");
  return [...source.matchAll(/\bimport\("(\.{1,2}\/[^"]+)"\)/g)].map((m) => resolve(dirname(file), m[1]!));
}

/** Every file reached from `entry` through static imports. */
function staticClosure(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    staticImports(file).forEach(visit);
  };
  visit(entry);
  return seen;
}

function codecModulesIn(files: Iterable<string>): string[] {
  const found = new Set<string>();
  for (const file of files) {
    const source = readFileSync(file, "utf8");
    for (const module of CODEC_MODULES) if (source.includes(`// ${module}`)) found.add(module);
  }
  return [...found].sort();
}

describe("the CLI bundle", () => {
  it("imports no picture or DICOM pixel decoder before a segment command's first case; they load on use", () => {
    expect(existsSync(join(bundle, "main.js")), "build the CLI first: npm run build").toBe(true);
    const segmentChunk = readdirSync(join(bundle, "chunks")).find((name) => name.startsWith("segment-"));
    expect(segmentChunk).toBeDefined();
    const startUp = new Set([
      ...staticClosure(join(bundle, "main.js")),
      ...staticClosure(join(bundle, "chunks", segmentChunk!)),
    ]);
    expect(codecModulesIn(startUp)).toEqual([]);

    // Not vacuous: the decoders are in the bundle, reached from the start-up files through import().
    const onDemand = new Set(
      [...startUp].flatMap(dynamicImports).flatMap((file) => [...staticClosure(file)]),
    );
    expect(codecModulesIn(onDemand)).toEqual([...CODEC_MODULES].sort());
  });
});
