export * from "./errors.js";
export * from "./image/types.js";
export * from "./model/expert.js";
export * from "./manifest/schema.js";
