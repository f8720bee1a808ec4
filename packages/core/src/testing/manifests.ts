/** For tests: an expert entry of a manifest v1 whose files need not exist (routing tests never load them). */
export function testExpertEntry(name: string, modalities: string[], subset?: string) {
  return {
    name,
    modalities,
    ...(subset ? { subset } : {}),
    encoder: { file: `${name}/encoder.onnx`, sha256: "0".repeat(64) },
    decoder: { file: `${name}/decoder.onnx`, sha256: "0".repeat(64) },
    inputSize: 256,
    embeddingShape: [16, 64, 64],
    normalization: "minmax01",
    version: "test",
  };
}
