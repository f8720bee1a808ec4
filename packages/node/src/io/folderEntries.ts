/**
 * A folder's entries with symbolic links followed: a link to a case file is a file, a link to a folder a folder,
 * as users who link cases into a working folder expect (readdir's own file types describe the link itself).
 * Broken links are neither.
 */
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";

export interface FolderEntry {
  name: string;
  isFile(): boolean;
  isDirectory(): boolean;
}

export async function folderEntries(folder: string): Promise<FolderEntry[]> {
  const entries = await readdir(folder, { withFileTypes: true });
  return Promise.all(
    entries.map(async (entry): Promise<FolderEntry> => {
      if (!entry.isSymbolicLink()) return entry;
      const target = await stat(join(folder, entry.name)).catch(() => null);
      return {
        name: entry.name,
        isFile: () => target?.isFile() ?? false,
        isDirectory: () => target?.isDirectory() ?? false,
      };
    }),
  );
}
