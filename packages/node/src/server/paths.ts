/**
 * Where `daft serve` finds things by default, walking up from this module (so it works from the compiled modules,
 * the bundle and its chunks alike): the built web app (packages/web/dist) and the packages' version.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function* ancestors(): Generator<string> {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    yield dir;
    const parent = dirname(dir);
    if (parent === dir) return;
    dir = parent;
  }
}

/** packages/web/dist of the checkout this module belongs to (it may not be built yet), or undefined. */
export function defaultWebDir(): string | undefined {
  for (const dir of ancestors()) {
    if (existsSync(join(dir, "packages", "web", "package.json"))) return join(dir, "packages", "web", "dist");
  }
  return undefined;
}

/** The version in @daft/node's package.json. */
export function daftVersion(): string {
  for (const dir of ancestors()) {
    const path = join(dir, "package.json");
    if (!existsSync(path)) continue;
    const pkg = JSON.parse(readFileSync(path, "utf8")) as { name?: string; version?: string };
    if (pkg.name === "@daft/node" && pkg.version) return pkg.version;
  }
  return "unknown";
}

/** Whether a host name or address only reaches this machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "");
  return h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h) || h === "::ffff:127.0.0.1";
}
