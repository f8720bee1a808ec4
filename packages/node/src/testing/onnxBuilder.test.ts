import { describe, expect, it } from "vitest";
import { attr, encodeOnnxModel, floatTensor, int64Tensor, OnnxGraphBuilder } from "./onnxBuilder.js";
import { encodeVarint, ProtoMessage } from "./protobufWriter.js";
import { runOnnx } from "./runOnnx.js";

describe("protobuf wire format", () => {
  it("encodes varints like protobuf, negatives as 10-byte two's complement", () => {
    expect([...encodeVarint(0)]).toEqual([0]);
    expect([...encodeVarint(1)]).toEqual([1]);
    expect([...encodeVarint(127)]).toEqual([0x7f]);
    expect([...encodeVarint(300)]).toEqual([0xac, 0x02]);
    expect([...encodeVarint(-1)]).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    expect([...encodeVarint((1n << 63n) - 1n)]).toEqual([
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
    ]);
    expect(() => encodeVarint(0.5)).toThrow(/safe integer/);
  });

  it("length-prefixes strings and nested messages, little-endian fixed32 floats", () => {
    const inner = new ProtoMessage().varint(1, 150);
    const bytes = new ProtoMessage().string(2, "ab").message(3, inner).float(4, 1).finish();
    expect([...bytes]).toEqual([0x12, 2, 0x61, 0x62, 0x1a, 3, 0x08, 0x96, 0x01, 0x25, 0, 0, 0x80, 0x3f]);
  });
});

/** x: [B, 3] float32 (B dynamic) → one output per attribute kind the builder writes. */
function attributeKindsModel(): Uint8Array {
  const g = new OnnxGraphBuilder("attribute_kinds");
  const x = g.input("x", "float32", ["B", 3]);
  g.op("LeakyRelu", [x], { alpha: attr.float(0.25) }, "leaky"); // float
  g.op("Transpose", [x], { perm: attr.ints([1, 0]) }, "transposed"); // ints
  g.op("Concat", [x, x], { axis: attr.int(-1) }, "concat"); // negative int
  const filled = attr.tensor(floatTensor([1], [7.5])); // tensor
  g.op("ConstantOfShape", [g.op("Shape", [x])], { value: filled }, "filled");
  const offsets = g.op("Constant", [], { value_floats: attr.floats([1.5, -2, 3]) }); // floats
  g.op("Add", [x, offsets], undefined, "shifted");
  const pads = g.initializer("pads", int64Tensor([4], [0, 1, 0, 1]));
  g.op("Pad", [x, pads], { mode: attr.string("reflect") }, "padded"); // string
  const negativeEnd = g.int64Const("ends", [-1]); // negative int64 raw_data
  g.op(
    "Slice",
    [x, g.int64Const("starts", [0]), negativeEnd, g.int64Const("axes", [1])],
    undefined,
    "sliced",
  );
  g.output("leaky", "float32", ["B", 3]);
  g.output("transposed", "float32", [3, "B"]);
  g.output("concat", "float32", ["B", 6]);
  g.output("filled", "float32", ["B", 3]);
  g.output("shifted", "float32", ["B", 3]);
  g.output("padded", "float32", ["B", 5]);
  g.output("sliced", "float32", ["B", 2]);
  return g.toModel();
}

describe("OnnxGraphBuilder models run in onnxruntime-node", () => {
  const model = attributeKindsModel();

  for (const rows of [1, 4]) {
    it(`computes every attribute kind exactly with a dynamic batch of ${rows}`, async () => {
      const x = Float32Array.from({ length: rows * 3 }, (_, i) => (i % 2 === 0 ? i : -i) / 4);
      const out = await runOnnx(model, { x: { data: x, dims: [rows, 3] } });
      const at = (r: number, c: number) => x[r * 3 + c] as number;
      const expectOutput = (name: string, dims: number[], value: (r: number, c: number) => number) => {
        const tensor = out[name];
        expect(tensor?.dims, name).toEqual(dims);
        const cols = dims[1] as number;
        const expected = Array.from({ length: dims[0]! * cols }, (_, i) =>
          value(Math.floor(i / cols), i % cols),
        );
        expect([...tensor!.data], name).toEqual(expected);
      };
      expectOutput("leaky", [rows, 3], (r, c) => (at(r, c) < 0 ? at(r, c) * 0.25 : at(r, c)));
      expectOutput("transposed", [3, rows], (r, c) => at(c, r));
      expectOutput("concat", [rows, 6], (r, c) => at(r, c % 3));
      expectOutput("filled", [rows, 3], () => 7.5);
      expectOutput("shifted", [rows, 3], (r, c) => Math.fround(at(r, c) + [1.5, -2, 3][c]!));
      expectOutput("padded", [rows, 5], (r, c) => at(r, [1, 0, 1, 2, 1][c]!));
      expectOutput("sliced", [rows, 2], (r, c) => at(r, c));
    });
  }

  it("declares inputs and outputs with fixed and named dims", async () => {
    const ort = await import("onnxruntime-node");
    const session = await ort.InferenceSession.create(model);
    expect(session.inputNames).toEqual(["x"]);
    expect(session.outputNames).toEqual([
      "leaky",
      "transposed",
      "concat",
      "filled",
      "shifted",
      "padded",
      "sliced",
    ]);
    await session.release();
  });

  it("writes explicit graphs without the builder", async () => {
    const bytes = encodeOnnxModel({
      name: "scale",
      nodes: [{ opType: "Mul", inputs: ["v", "k"], outputs: ["w"] }],
      initializers: [{ name: "k", ...floatTensor([], [3]) }],
      inputs: [{ name: "v", type: "float32", shape: [2] }],
      outputs: [{ name: "w", type: "float32", shape: [2] }],
    });
    const out = await runOnnx(bytes, { v: { data: Float32Array.of(1, -2), dims: [2] } });
    expect([...out.w!.data]).toEqual([3, -6]);
  });
});

describe("OnnxGraphBuilder catches mistakes before onnxruntime does", () => {
  it("rejects unknown inputs, reused names and wrongly sized tensors", () => {
    const g = new OnnxGraphBuilder("broken");
    const x = g.input("x", "float32", [2]);
    expect(() => g.op("Relu", ["nope"])).toThrow(/unknown value "nope"/);
    expect(() => g.op("Relu", [x], undefined, "x")).toThrow(/already used/);
    expect(() => g.output("missing", "float32", [2])).toThrow(/no value "missing"/);
    expect(() => g.floatConst("w", [1, 2, 3], [2, 2])).toThrow(/needs 4 values, got 3/);
  });
});
