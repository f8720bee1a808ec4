/**
 * A minimal, dependency-free ONNX ModelProto writer, so tests and benchmarks can build the models
 * they run (oracle experts, synthetic benchmark experts) without Python.
 *
 * Field numbers follow onnx/onnx.proto (IR version 8). Tensors are written with raw_data
 * (little-endian); dims and ints are written unpacked, as the proto2 schema declares them.
 */
import { ProtoMessage } from "./protobufWriter.js";

export type OnnxElementType = "float32" | "uint8" | "int8" | "int32" | "int64" | "bool";

/** TensorProto.DataType codes. */
const ELEMENT_TYPE_CODE: Record<OnnxElementType, number> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
};

export type OnnxTensorData = Float32Array | Uint8Array | Int8Array | Int32Array | BigInt64Array;

export interface OnnxTensor {
  type: OnnxElementType;
  dims: readonly number[];
  data: OnnxTensorData;
}

export interface NamedOnnxTensor extends OnnxTensor {
  name: string;
}

export type OnnxAttribute =
  | { type: "int"; value: number }
  | { type: "float"; value: number }
  | { type: "ints"; value: readonly number[] }
  | { type: "floats"; value: readonly number[] }
  | { type: "string"; value: string }
  | { type: "tensor"; value: OnnxTensor };

/** Attribute constructors: `attr.int(1)`, `attr.floats([0.5, 2])`, `attr.tensor(floatTensor([1], [0]))`. */
export const attr = {
  int: (value: number): OnnxAttribute => ({ type: "int", value }),
  float: (value: number): OnnxAttribute => ({ type: "float", value }),
  ints: (value: readonly number[]): OnnxAttribute => ({ type: "ints", value }),
  floats: (value: readonly number[]): OnnxAttribute => ({ type: "floats", value }),
  string: (value: string): OnnxAttribute => ({ type: "string", value }),
  tensor: (value: OnnxTensor): OnnxAttribute => ({ type: "tensor", value }),
};

/** AttributeProto.AttributeType codes. */
const ATTRIBUTE_TYPE_CODE: Record<OnnxAttribute["type"], number> = {
  float: 1,
  int: 2,
  string: 3,
  tensor: 4,
  floats: 6,
  ints: 7,
};

export interface OnnxNode {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  domain?: string;
  attributes?: Readonly<Record<string, OnnxAttribute>>;
}

/** A number is a fixed dim (dim_value); a string is a named dynamic dim (dim_param). */
export type OnnxDim = number | string;

export interface OnnxValueInfo {
  name: string;
  type: OnnxElementType;
  shape: readonly OnnxDim[];
}

export interface OnnxGraph {
  name: string;
  nodes: readonly OnnxNode[];
  initializers: readonly NamedOnnxTensor[];
  inputs: readonly OnnxValueInfo[];
  outputs: readonly OnnxValueInfo[];
}

export interface OnnxModelOptions {
  irVersion?: number;
  opsetVersion?: number;
  producerName?: string;
}

export function floatTensor(dims: readonly number[], values: ArrayLike<number>): OnnxTensor {
  return checkedTensor({ type: "float32", dims, data: Float32Array.from(values) });
}

export function int64Tensor(dims: readonly number[], values: readonly number[]): OnnxTensor {
  return checkedTensor({ type: "int64", dims, data: BigInt64Array.from(values, (v) => BigInt(v)) });
}

function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

function checkedTensor(tensor: OnnxTensor): OnnxTensor {
  const expected = elementCount(tensor.dims);
  if (tensor.data.length !== expected) {
    throw new RangeError(
      `tensor of dims [${tensor.dims.join(", ")}] needs ${expected} values, got ${tensor.data.length}`,
    );
  }
  return tensor;
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** raw_data is little-endian; typed arrays are in platform order. */
function rawData(data: OnnxTensorData): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  if (!littleEndian && data.BYTES_PER_ELEMENT > 1) {
    const width = data.BYTES_PER_ELEMENT;
    for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
  }
  return bytes;
}

function encodeTensor(tensor: OnnxTensor, name?: string): ProtoMessage {
  checkedTensor(tensor);
  const m = new ProtoMessage()
    .repeatedVarint(1, tensor.dims) // dims
    .varint(2, ELEMENT_TYPE_CODE[tensor.type]); // data_type
  if (name !== undefined) m.string(8, name);
  return m.bytes(9, rawData(tensor.data)); // raw_data
}

function encodeAttribute(name: string, attribute: OnnxAttribute): ProtoMessage {
  const m = new ProtoMessage().string(1, name);
  switch (attribute.type) {
    case "float":
      m.float(2, attribute.value);
      break;
    case "int":
      m.varint(3, attribute.value);
      break;
    case "string":
      m.string(4, attribute.value);
      break;
    case "tensor":
      m.message(5, encodeTensor(attribute.value));
      break;
    case "floats":
      m.repeatedFloat(7, attribute.value);
      break;
    case "ints":
      m.repeatedVarint(8, attribute.value);
      break;
  }
  return m.varint(20, ATTRIBUTE_TYPE_CODE[attribute.type]);
}

function encodeNode(node: OnnxNode): ProtoMessage {
  const m = new ProtoMessage();
  for (const input of node.inputs) m.string(1, input);
  for (const output of node.outputs) m.string(2, output);
  if (node.name !== undefined) m.string(3, node.name);
  m.string(4, node.opType);
  for (const [name, attribute] of Object.entries(node.attributes ?? {})) {
    m.message(5, encodeAttribute(name, attribute));
  }
  if (node.domain !== undefined) m.string(7, node.domain);
  return m;
}

function encodeValueInfo(info: OnnxValueInfo): ProtoMessage {
  const shape = new ProtoMessage();
  for (const dim of info.shape) {
    const d = new ProtoMessage();
    if (typeof dim === "number")
      d.varint(1, dim); // dim_value
    else d.string(2, dim); // dim_param
    shape.message(1, d);
  }
  const tensorType = new ProtoMessage().varint(1, ELEMENT_TYPE_CODE[info.type]).message(2, shape);
  const type = new ProtoMessage().message(1, tensorType); // TypeProto.tensor_type
  return new ProtoMessage().string(1, info.name).message(2, type);
}

function encodeGraph(graph: OnnxGraph): ProtoMessage {
  const m = new ProtoMessage();
  for (const node of graph.nodes) m.message(1, encodeNode(node));
  m.string(2, graph.name);
  for (const init of graph.initializers) m.message(5, encodeTensor(init, init.name));
  for (const input of graph.inputs) m.message(11, encodeValueInfo(input));
  for (const output of graph.outputs) m.message(12, encodeValueInfo(output));
  return m;
}

/** Serialized ModelProto, loadable with onnxruntime's `InferenceSession.create(bytes)`. */
export function encodeOnnxModel(graph: OnnxGraph, options: OnnxModelOptions = {}): Uint8Array {
  const opset = new ProtoMessage().string(1, "").varint(2, options.opsetVersion ?? 17);
  return new ProtoMessage()
    .varint(1, options.irVersion ?? 8) // ir_version
    .string(2, options.producerName ?? "daft-testing") // producer_name
    .message(7, encodeGraph(graph)) // graph
    .message(8, opset) // opset_import
    .finish();
}

/**
 * Builds a graph node by node with unique value names, so model definitions read like code:
 * `const y = g.op("Relu", [g.op("Conv", [x, w, b], { pads: attr.ints([1, 1, 1, 1]) })])`.
 */
export class OnnxGraphBuilder {
  private readonly nodes: OnnxNode[] = [];
  private readonly initializers: NamedOnnxTensor[] = [];
  private readonly inputs: OnnxValueInfo[] = [];
  private readonly outputs: OnnxValueInfo[] = [];
  private readonly usedNames = new Set<string>();

  constructor(private readonly name: string) {}

  private uniqueName(prefix: string): string {
    let name = prefix;
    for (let i = 1; this.usedNames.has(name); i++) name = `${prefix}_${i}`;
    this.usedNames.add(name);
    return name;
  }

  private claimName(name: string): string {
    if (this.usedNames.has(name))
      throw new Error(`value name "${name}" is already used in graph ${this.name}`);
    this.usedNames.add(name);
    return name;
  }

  input(name: string, type: OnnxElementType, shape: readonly OnnxDim[]): string {
    this.inputs.push({ name: this.claimName(name), type, shape });
    return name;
  }

  /** Declares an already produced value as a graph output. */
  output(name: string, type: OnnxElementType, shape: readonly OnnxDim[]): void {
    if (!this.usedNames.has(name)) throw new Error(`graph ${this.name} has no value "${name}" to output`);
    this.outputs.push({ name, type, shape });
  }

  initializer(prefix: string, tensor: OnnxTensor): string {
    const name = this.uniqueName(prefix);
    this.initializers.push({ name, ...checkedTensor(tensor) });
    return name;
  }

  /** A float32 initializer; a plain number becomes a scalar. */
  floatConst(prefix: string, values: number | ArrayLike<number>, dims?: readonly number[]): string {
    const list = typeof values === "number" ? [values] : values;
    return this.initializer(
      prefix,
      floatTensor(dims ?? (typeof values === "number" ? [] : [list.length]), list),
    );
  }

  int64Const(prefix: string, values: readonly number[], dims?: readonly number[]): string {
    return this.initializer(prefix, int64Tensor(dims ?? [values.length], values));
  }

  /** Adds a node with `outputCount` outputs; returns their names. `outputName` names the first. */
  opN(
    opType: string,
    inputs: readonly string[],
    outputCount: number,
    attributes?: Readonly<Record<string, OnnxAttribute>>,
    outputName?: string,
  ): string[] {
    for (const input of inputs) {
      if (input !== "" && !this.usedNames.has(input)) {
        throw new Error(`node ${opType} in graph ${this.name} reads unknown value "${input}"`);
      }
    }
    const base = opType.toLowerCase();
    const outputs = Array.from({ length: outputCount }, (_, i) =>
      i === 0 && outputName !== undefined ? this.claimName(outputName) : this.uniqueName(`${base}_out${i}`),
    );
    const node: OnnxNode = { opType, inputs, outputs, name: this.uniqueName(`${base}_node`) };
    this.nodes.push(attributes ? { ...node, attributes } : node);
    return outputs;
  }

  /** Adds a single-output node; returns the output's name. */
  op(
    opType: string,
    inputs: readonly string[],
    attributes?: Readonly<Record<string, OnnxAttribute>>,
    outputName?: string,
  ): string {
    const [output] = this.opN(opType, inputs, 1, attributes, outputName);
    return output as string;
  }

  build(): OnnxGraph {
    return {
      name: this.name,
      nodes: [...this.nodes],
      initializers: [...this.initializers],
      inputs: [...this.inputs],
      outputs: [...this.outputs],
    };
  }

  toModel(options?: OnnxModelOptions): Uint8Array {
    return encodeOnnxModel(this.build(), options);
  }
}
