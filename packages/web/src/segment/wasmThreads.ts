import { modelThreads } from "@daft/core";

/**
 * How the WASM runtime spends this browser's cores: `sessions` side by side (the segmentation worker's and Web
 * Workers', the core's modelThreads), each on `threads` WASM threads. Side by side needs nothing of the page; a
 * session's own threads need SharedArrayBuffer, i.e. a cross-origin isolated page.
 */
export function wasmThreads(isolated: boolean, cores: number): { sessions: number; threads: number } {
  const { threads: sessions, intraOpThreads } = modelThreads(cores);
  return { sessions, threads: isolated ? intraOpThreads : 1 };
}
