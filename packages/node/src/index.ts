export {};
export * from "./server/handler.js";
export * from "./server/nodeAdapter.js";
export * from "./server/schemas.js";
export { InferenceQueue } from "./server/queue.js";
export { AUTO_MODEL } from "./server/monaiApi.js";
