/**
 * Just enough of the protobuf wire format to write ONNX models: varints (int32/int64, negatives as
 * 10-byte two's complement), fixed32 floats and length-delimited fields (strings, bytes, messages).
 * A message is built as a list of encoded fields and turned into bytes once, so nested messages
 * are length-prefixed with their exact size.
 */

const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

const MAX_UINT64 = (1n << 64n) - 1n;

/** Varint encoding of a (u)int32/(u)int64; negative values are sign-extended to 64 bits as protobuf does. */
export function encodeVarint(value: number | bigint): Uint8Array {
  let v = typeof value === "bigint" ? value : BigInt(checkedInteger(value));
  if (v < 0n) v = (v + (1n << 64n)) & MAX_UINT64;
  if (v > MAX_UINT64) throw new RangeError(`varint out of range: ${value}`);
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Uint8Array.from(out);
}

function checkedInteger(value: number): number {
  if (!Number.isSafeInteger(value)) throw new RangeError(`expected a safe integer, got ${value}`);
  return value;
}

function tag(fieldNumber: number, wireType: number): Uint8Array {
  return encodeVarint((fieldNumber << 3) | wireType);
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

const utf8 = new TextEncoder();

/** Accumulates the fields of one message, in the order they are added. */
export class ProtoMessage {
  private readonly parts: Uint8Array[] = [];

  varint(fieldNumber: number, value: number | bigint): this {
    this.parts.push(tag(fieldNumber, WIRE_VARINT), encodeVarint(value));
    return this;
  }

  /** Unpacked repeated varint field (the proto2 default ONNX uses for dims and ints). */
  repeatedVarint(fieldNumber: number, values: readonly (number | bigint)[]): this {
    for (const v of values) this.varint(fieldNumber, v);
    return this;
  }

  float(fieldNumber: number, value: number): this {
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.parts.push(tag(fieldNumber, WIRE_FIXED32), bytes);
    return this;
  }

  /** Unpacked repeated float field. */
  repeatedFloat(fieldNumber: number, values: readonly number[]): this {
    for (const v of values) this.float(fieldNumber, v);
    return this;
  }

  bytes(fieldNumber: number, value: Uint8Array): this {
    this.parts.push(tag(fieldNumber, WIRE_LENGTH_DELIMITED), encodeVarint(value.length), value);
    return this;
  }

  string(fieldNumber: number, value: string): this {
    return this.bytes(fieldNumber, utf8.encode(value));
  }

  message(fieldNumber: number, value: ProtoMessage): this {
    return this.bytes(fieldNumber, value.finish());
  }

  finish(): Uint8Array {
    return concatBytes(this.parts);
  }
}
