/**
 * The schema library every trust boundary validates with: zod's tree-shakable "mini" API, with English messages
 * only. The full zod API with its 40-odd locales made up most of the JavaScript a fresh `daft segment` process
 * compiled before its first case (756 kB; bench/bundleLoad.mjs: 214 → 130 ms to import the segment command's code
 * on a 2-core machine); the mini chunk is about 113 kB.
 * Import it as `import * as z from "../zodMini.js"` inside the core and from "@daft/core/zod" outside it (the
 * server's HTTP schemas), never from "zod" directly, so the messages are always configured; package.json lists
 * this file under "sideEffects" so that a bundler keeps the configuration call.
 */
import { config } from "zod/mini";
import en from "zod/v4/locales/en.js";

config(en());

export * from "zod/mini";
