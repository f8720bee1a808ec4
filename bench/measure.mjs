// Runs one command as a fresh process and measures what a user waits for: wall time from spawn to
// exit, and peak resident memory (GNU time's %M when /usr/bin/time exists, else /proc/<pid>/status
// VmHWM polled until exit).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const GNU_TIME = "/usr/bin/time";

/** Process groups of running measurements, killed if the benchmark itself is interrupted. */
const runningGroups = new Set();
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => {
    for (const pid of runningGroups) {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    process.exit(130);
  });
}

/** Peak RSS (kB) of a live process from /proc, or undefined once it is gone. */
async function readVmHwmKb(pid) {
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Does /usr/bin/time accept -f/-o (GNU time, not a BSD or busybox one)? */
let gnuTimeWorks;
async function hasGnuTime() {
  if (gnuTimeWorks !== undefined) return gnuTimeWorks;
  gnuTimeWorks = false;
  if (!existsSync(GNU_TIME)) return false;
  const dir = await mkdtemp(join(tmpdir(), "daft-bench-"));
  try {
    const out = join(dir, "rss");
    const code = await new Promise((resolve) => {
      const child = spawn(GNU_TIME, ["-f", "%M", "-o", out, "true"], { stdio: "ignore" });
      child.on("error", () => resolve(-1));
      child.on("exit", (c) => resolve(c));
    });
    gnuTimeWorks = code === 0 && /^\d+\s*$/.test(await readFile(out, "utf8").catch(() => ""));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return gnuTimeWorks;
}

export async function memoryProbeName() {
  return (await hasGnuTime()) ? "GNU time %M (max RSS)" : "/proc/<pid>/status VmHWM (polled)";
}

/**
 * Spawns `command args` and resolves { exitCode, signal, wallMs, peakRssMb, stderrTail }.
 * A run longer than timeoutMs is killed (SIGKILL) and reported with timedOut: true.
 */
export async function measureProcess(command, args, { timeoutMs, cwd }) {
  const useGnuTime = await hasGnuTime();
  const tempDir = await mkdtemp(join(tmpdir(), "daft-bench-"));
  const rssFile = join(tempDir, "rss");
  const [file, argv] = useGnuTime
    ? [GNU_TIME, ["-f", "%M", "-o", rssFile, command, ...args]]
    : [command, args];
  let stderr = "";
  let polledKb = 0;
  let timedOut = false;
  const started = performance.now();
  // Own process group, so a timeout kills the CLI too and not only GNU time in front of it.
  const child = spawn(file, argv, { cwd, stdio: ["ignore", "ignore", "pipe"], detached: true });
  runningGroups.add(child.pid);
  child.stderr.on("data", (chunk) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const poller = useGnuTime
    ? undefined
    : setInterval(async () => {
        const kb = await readVmHwmKb(child.pid);
        if (kb !== undefined && kb > polledKb) polledKb = kb;
      }, 10);
  const killer = setTimeout(() => {
    timedOut = true;
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      child.kill("SIGKILL");
    }
  }, timeoutMs);
  const { exitCode, signal, wallMs } = await new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code, sig) =>
      resolve({ exitCode: code, signal: sig, wallMs: performance.now() - started }),
    );
  });
  clearTimeout(killer);
  runningGroups.delete(child.pid);
  if (poller) clearInterval(poller);
  let peakKb = polledKb;
  if (useGnuTime) {
    // GNU time prints "Command exited with non-zero status N" before %M when the command fails.
    const lines = (await readFile(rssFile, "utf8").catch(() => "")).trim().split("\n");
    peakKb = Number(lines[lines.length - 1]) || 0;
  }
  await rm(tempDir, { recursive: true, force: true });
  return {
    exitCode,
    signal,
    timedOut,
    wallMs,
    peakRssMb: peakKb > 0 ? peakKb / 1024 : null,
    stderrTail: stderr.trim().split("\n").slice(-3).join(" | "),
  };
}

/** Parses a CSV with a header row (no quoted commas: the CLI writes plain fields) into objects. */
export function parseCsv(text) {
  const [header, ...rows] = text.trim().split(/\r?\n/);
  const names = header.split(",");
  return rows
    .filter((r) => r.length > 0)
    .map((row) => {
      const cells = row.split(",");
      return Object.fromEntries(names.map((name, i) => [name, cells[i] ?? ""]));
    });
}

/**
 * Starts `daft serve --port 0 [args]` and resolves { server (the child process), url } once it prints its URL.
 * The caller kills the server when done.
 */
export async function startDaftServe(root, args = []) {
  const server = spawn(
    process.execPath,
    [join(root, "packages/node/bin/daft.js"), "serve", "--port", "0", ...args],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const url = await new Promise((resolve, reject) => {
    let text = "";
    server.stdout.on("data", (chunk) => {
      text += chunk;
      const m = /daft serve: (http:\/\/\S+)/.exec(text);
      if (m) resolve(m[1]);
    });
    server.once("exit", (code) => reject(new Error(`daft serve exited with ${code}`)));
  });
  return { server, url };
}
