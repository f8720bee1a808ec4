/** Test and benchmark helpers: an ONNX writer and oracle/synthetic experts built with it. */
export * from "./protobufWriter.js";
export * from "./onnxBuilder.js";
export * from "./oracleModels.js";
export * from "./syntheticModels.js";
export * from "./oracleModelDir.js";
export * from "./runOnnx.js";
export * from "./csvRows.js";
