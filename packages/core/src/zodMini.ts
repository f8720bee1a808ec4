/**
 * The schema library every trust boundary in the core validates with: zod's tree-shakable "mini" API, with
 * English messages only. The full zod API with its 40-odd locales made up most of the JavaScript a fresh
 * `daft segment` process compiled before its first case (755 kB, 60–90 ms on a 2-core machine); what is used of
 * this is a few tens of kB. Import it as `import * as z from "../zodMini.js"` (outside the core: "@daft/core/zod"), never from "zod"
 * directly, so the
 * messages are always configured (and a bundler keeps only the functions used).
 */
import { config } from "zod/mini";
import en from "zod/v4/locales/en.js";

config(en());

export * from "zod/mini";
