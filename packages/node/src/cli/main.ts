/**
 * `daft <command> …` — dispatches to one file per command. Each command module exports
 * `main(args): Promise<number>` and prints its own one-line errors.
 */
import { installZipCodec } from "@daft/core";
import { nodeZipCodec } from "../io/nodeZipCodec.js";

const COMMANDS: Record<
  string,
  { load: () => Promise<{ main: (args: string[]) => Promise<number> }>; help: string }
> = {
  segment: { load: () => import("./segment.js"), help: "segment challenge .npz cases with box prompts" },
  eval: { load: () => import("./eval.js"), help: "score predicted masks against ground truth (DSC, NSD)" },
  data: { load: () => import("./data.js"), help: "data import: nnU-Net/MSD datasets → challenge cases" },
  selector: { load: () => import("./selector.js"), help: "train / evaluate the learned expert selector" },
  serve: { load: () => import("./serve.js"), help: "local web app + HTTP API (MONAI Label compatible)" },
  subsets: {
    load: () => import("./subsets.js"),
    help: "propose data-driven subsets (clusters of meta-features)",
  },
};

export const USAGE = `daft — promptable medical image segmentation on a laptop (DAFT)

usage: daft <command> [options]

commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.help}`)
  .join("\n")}

Run 'daft <command> --help' for a command's options.`;

export async function run(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === "--help" || command === "-h" || command === "help") {
    process.stdout.write(`${USAGE}\n`);
    return command ? 0 : 2;
  }
  const entry = COMMANDS[command];
  if (!entry) {
    process.stderr.write(`daft: unknown command "${command}"\n${USAGE}\n`);
    return 2;
  }
  installZipCodec(nodeZipCodec); // native zlib for every .npz the command reads or writes
  const mod = await entry.load();
  return mod.main(rest);
}
