/** Typed arrays an N-d array (npy, NIfTI, …) can be decoded into. */
export type NumericArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

/** A dense C-order (row-major) N-d array. */
export interface NdArray<T extends NumericArray = NumericArray> {
  data: T;
  shape: number[];
  /** numpy dtype string without byte order, e.g. "uint8", "float32", "bool". */
  dtype: string;
}

/**
 * One 2D image plane, C order, channels interleaved (H, W, C).
 * Values are kept as float-compatible numbers; challenge images are uint8.
 */
export interface Image2D {
  data: Uint8Array | Float32Array;
  height: number;
  width: number;
  channels: 1 | 3;
}

/** A volume (D, H, W), single channel, C order. */
export interface Volume {
  data: Uint8Array | Float32Array;
  depth: number;
  height: number;
  width: number;
  /** Voxel spacing in mm in array-axis order (z, y, x). */
  spacing: [number, number, number];
}

/** Box in pixel coordinates, max corner inclusive: [x0, y0, x1, y1]. */
export type Box2D = [number, number, number, number];
/** Box in voxel coordinates, max corner inclusive: [x0, y0, z0, x1, y1, z1]. */
export type Box3D = [number, number, number, number, number, number];
