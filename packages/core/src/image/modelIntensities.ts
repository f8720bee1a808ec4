/**
 * Scanner intensities → the model's uint8 input, the way the challenge prepared its data:
 *   - CT (not already 8-bit): a window (width/level in Hounsfield units) — values below level - width/2 become 0,
 *     above level + width/2 become 255, linear in between (rounded half to even);
 *   - data that already are 8-bit unsigned (8-bit pictures, uint8 NIfTI, 8-bit DICOM without rescale): as they are;
 *   - everything else (MR, PET, 16-bit pictures, …): clipped to the 0.5th–99.5th percentiles of the whole image
 *     and scaled to 0..255 (dataset/intensity.ts, the importer's exact numpy-equivalent rule).
 * NaN becomes 0 in every mapping.
 */
import { DaftInputError } from "../errors.js";
import { scaleRangeToUint8, scaleToUint8, type IntensityData } from "../dataset/intensity.js";

export interface CtWindow {
  width: number;
  level: number;
}

/** Common CT display windows (width/level in HU). */
export const CT_WINDOW_PRESETS: Record<string, CtWindow> = {
  abdomen: { width: 400, level: 40 },
  lung: { width: 1500, level: -600 },
  brain: { width: 80, level: 40 },
  bone: { width: 1800, level: 400 },
  mediastinum: { width: 350, level: 50 },
  liver: { width: 150, level: 30 },
};

export const DEFAULT_CT_WINDOW = "abdomen";

/** `--window` value: a preset name or "W/L" (e.g. "400/40", "1500/-600"). */
export function parseCtWindow(text: string): CtWindow & { name: string } {
  const preset = CT_WINDOW_PRESETS[text.toLowerCase()];
  if (preset) return { ...preset, name: text.toLowerCase() };
  const match = /^\s*([+-]?\d+(?:\.\d+)?)\s*\/\s*([+-]?\d+(?:\.\d+)?)\s*$/.exec(text);
  const width = match ? Number(match[1]) : NaN;
  const level = match ? Number(match[2]) : NaN;
  if (!match || !(width > 0) || !Number.isFinite(level)) {
    throw new DaftInputError(
      `--window "${text}" is neither a preset (${Object.keys(CT_WINDOW_PRESETS).join(", ")}) ` +
        "nor width/level with a positive width, e.g. 400/40",
    );
  }
  return { width, level, name: `${width}/${level}` };
}

export type IntensityMapping =
  | { kind: "window"; window: CtWindow; name: string; reason: string }
  | { kind: "as-is"; reason: string }
  | { kind: "percentile"; reason: string };

export interface IntensityFacts {
  /** --window, already parsed. */
  window?: CtWindow & { name: string };
  /** The modality known before looking at the values: --modality, DICOM Modality, NIfTI header text or a file-name rule. */
  modality?: { name: string; from: string };
  /** True when the values are 8-bit unsigned as stored (no rescale). */
  eightBit: boolean;
  values: IntensityData;
}

/**
 * Chooses the mapping: --window → CT (known modality, or Hounsfield-like values when no modality is known), unless
 * the values are plain 8-bit (a CT screenshot is not in HU) → 8-bit as is → percentiles.
 */
export function chooseIntensityMapping(facts: IntensityFacts): IntensityMapping {
  if (facts.window) {
    return { kind: "window", window: facts.window, name: facts.window.name, reason: "--window" };
  }
  const modality = facts.modality;
  const isCt = modality ? modality.name.toUpperCase() === "CT" : false;
  if (!facts.eightBit && (isCt || (!modality && looksLikeHounsfield(facts.values)))) {
    const window = CT_WINDOW_PRESETS[DEFAULT_CT_WINDOW]!;
    const reason = modality ? `${modality.from} says CT` : "Hounsfield-like values (air at -1000)";
    return { kind: "window", window, name: DEFAULT_CT_WINDOW, reason };
  }
  if (facts.eightBit) return { kind: "as-is", reason: "8-bit data" };
  return { kind: "percentile", reason: modality ? `${modality.from} says ${modality.name}` : "not CT" };
}

export function describeMapping(mapping: IntensityMapping): string {
  if (mapping.kind === "window")
    return `CT window ${mapping.name} ${mapping.window.width}/${mapping.window.level} (${mapping.reason})`;
  if (mapping.kind === "as-is") return `8-bit values as they are (${mapping.reason})`;
  return `0.5–99.5 percentile clip to 0..255 (${mapping.reason})`;
}

/** Applies the mapping; `invert` (DICOM MONOCHROME1) flips the result (255 - v). */
export function mapIntensities(values: IntensityData, mapping: IntensityMapping, invert = false): Uint8Array {
  let out: Uint8Array;
  if (mapping.kind === "window") out = applyWindow(values, mapping.window);
  else if (mapping.kind === "as-is")
    out = values instanceof Uint8Array ? values.slice() : Uint8Array.from(values);
  else out = scaleToUint8(compactIntegers(values));
  if (invert) for (let i = 0; i < out.length; i++) out[i] = 255 - out[i]!;
  return out;
}

export function applyWindow(values: IntensityData, { width, level }: CtWindow): Uint8Array {
  return scaleRangeToUint8(values, level - width / 2, level + width / 2, width);
}

/**
 * CT in Hounsfield units without a modality tag: nothing below -3100 (scanner padding is -1024, -2048 or -3024),
 * at least 2% of the values in the air band [-1100, -900], and nothing above 32767. MR, PET and photos are
 * non-negative; phase maps reach -4096. Sampled on up to ~1M values.
 */
export function looksLikeHounsfield(values: IntensityData): boolean {
  if (values instanceof Uint8Array || values instanceof Uint16Array || values instanceof Uint32Array)
    return false;
  const stride = Math.max(1, Math.floor(values.length / 1_000_000));
  let sampled = 0;
  let air = 0;
  for (let i = 0; i < values.length; i += stride) {
    const v = values[i]!;
    if (Number.isNaN(v)) continue;
    if (v < -3100 || v > 32767) return false;
    if (v >= -1100 && v <= -900) air++;
    sampled++;
  }
  return sampled > 0 && air / sampled >= 0.02;
}

/** Float data holding only integers that fit 16 bits → Int16Array/Uint16Array (same values, fast percentiles). */
function compactIntegers(values: IntensityData): IntensityData {
  if (!(values instanceof Float32Array || values instanceof Float64Array)) return values;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isInteger(v)) return values;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min >= 0 && max <= 65535) return Uint16Array.from(values);
  if (min >= -32768 && max <= 32767) return Int16Array.from(values);
  return values;
}
