/**
 * What the `daft <command>` files share: the subcommand check, option parsing with -h/--help, and the one-line
 * error messages (`<file>: <problem>`, or `daft <command>: <problem>` when no file is to blame).
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { DaftInputError } from "@daft/core";

/**
 * The subcommand of `daft <command> <subcommand> …` and the arguments after it, or the exit code when there is
 * nothing to run: no subcommand (help printed, 2), -h/--help (help printed, 0) or an unknown one (2).
 */
export function takeSubcommand<S extends string>(
  command: string,
  args: string[],
  subcommands: readonly S[],
  help: string,
): { name: S; rest: string[] } | number {
  const [subcommand, ...rest] = args;
  if (subcommand === undefined || subcommand === "--help" || subcommand === "-h") {
    process.stdout.write(`${help}\n`);
    return subcommand === undefined ? 2 : 0;
  }
  if (!(subcommands as readonly string[]).includes(subcommand)) {
    process.stderr.write(`daft ${command}: unknown subcommand "${subcommand}"\n${help}\n`);
    return 2;
  }
  return { name: subcommand as S, rest };
}

/**
 * `parseArgs(config)` for `command` (as printed, e.g. "daft data import"), whose options include a boolean `help`.
 * Returns the exit code instead when there is nothing to run: an option parseArgs refuses (one line
 * `<command>: <problem>`, followed by the help with `helpOnError`; 2) or -h/--help (help printed, 0).
 */
export function parseCommandLine<T extends ParseArgsConfig>(
  command: string,
  config: T,
  help: string,
  { helpOnError = false }: { helpOnError?: boolean } = {},
): ReturnType<typeof parseArgs<T>> | number {
  let parsed: ReturnType<typeof parseArgs<T>>;
  try {
    parsed = parseArgs(config);
  } catch (error) {
    process.stderr.write(`${command}: ${(error as Error).message}\n${helpOnError ? `${help}\n` : ""}`);
    return 2;
  }
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(`${help}\n`);
    return 0;
  }
  return parsed;
}

/** An error's message on one line (runs of white space become one space). */
export function messageLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s+/g, " ").trim();
}

/**
 * `<file>: <problem>` for a failure about `file`. A DaftInputError that names its own source keeps it, and a
 * message that already names a file (e.g. a model file's sha256 mismatch) is not prefixed again.
 */
export function fileErrorLine(error: unknown, file: string): string {
  if (error instanceof DaftInputError) return error.withSource(file).oneLine();
  const message = messageLine(error);
  return message.includes(file) || message.startsWith("/") ? message : `${file}: ${message}`;
}

/** The line for a failure of a whole command: a DaftInputError's own line, else `<command>: <message>`. */
export function commandErrorLine(error: unknown, command: string): string {
  return error instanceof DaftInputError ? error.oneLine() : `${command}: ${(error as Error).message}`;
}
