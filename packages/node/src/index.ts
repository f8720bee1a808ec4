import { installZipCodec } from "@daft/core";
import { nodeZipCodec } from "./io/nodeZipCodec.js";

// The library's users (a server embedding the handler) read and write .npz through native zlib, as the CLI does.
installZipCodec(nodeZipCodec);

export { nodeZipCodec };
export * from "./server/handler.js";
export * from "./server/nodeAdapter.js";
export * from "./server/schemas.js";
export { InferenceQueue } from "./server/queue.js";
export { AUTO_MODEL } from "./server/monaiApi.js";
