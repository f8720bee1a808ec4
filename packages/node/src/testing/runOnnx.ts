/** Runs a serialized ONNX model once with onnxruntime-node; for tests of the models built here. */
import * as ort from "onnxruntime-node";

export interface FloatTensorValue {
  data: Float32Array;
  dims: readonly number[];
}

export async function runOnnx(
  model: Uint8Array | ort.InferenceSession,
  feeds: Readonly<Record<string, FloatTensorValue>>,
): Promise<Record<string, FloatTensorValue>> {
  const session = model instanceof Uint8Array ? await ort.InferenceSession.create(model) : model;
  try {
    const inputs: Record<string, ort.Tensor> = {};
    for (const [name, value] of Object.entries(feeds)) {
      inputs[name] = new ort.Tensor("float32", value.data, value.dims);
    }
    const results = await session.run(inputs);
    const outputs: Record<string, FloatTensorValue> = {};
    for (const [name, tensor] of Object.entries(results)) {
      if (tensor.type !== "float32") throw new Error(`output ${name} is ${tensor.type}, expected float32`);
      outputs[name] = { data: tensor.data as Float32Array, dims: [...tensor.dims] };
    }
    return outputs;
  } finally {
    if (model instanceof Uint8Array) await session.release();
  }
}
