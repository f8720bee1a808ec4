/**
 * sRGB colours as DICOM CIELab values (PS3.3 C.10.7.1.1, the ICC profile connection space): L* 0..100 and
 * a*, b* −128..127 linearly scaled to 0..0xFFFF, relative to the D50 white point (sRGB → XYZ with the
 * Bradford-adapted D50 matrix).
 */

const SRGB_TO_XYZ_D50 = [
  [0.4360747, 0.3850649, 0.1430804],
  [0.2225045, 0.7168786, 0.0606169],
  [0.0139322, 0.0971045, 0.7141733],
] as const;
const D50_WHITE = [0.96422, 1.0, 0.82521] as const;

/** 8-bit sRGB → [L, a, b] as three unsigned 16-bit DICOM values. */
export function dicomCieLabFromRgb(rgb: readonly [number, number, number]): [number, number, number] {
  const linear = rgb.map((c) => {
    const v = c / 255;
    return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  });
  const f = (t: number) => (t > (6 / 29) ** 3 ? Math.cbrt(t) : t / (3 * (6 / 29) ** 2) + 4 / 29);
  const [fx, fy, fz] = SRGB_TO_XYZ_D50.map((row, i) =>
    f((row[0] * linear[0]! + row[1] * linear[1]! + row[2] * linear[2]!) / D50_WHITE[i]!),
  ) as [number, number, number];
  const l = 116 * fy - 16;
  const a = 500 * (fx - fy);
  const b = 200 * (fy - fz);
  const scale = (v: number, offset: number, range: number) =>
    Math.min(0xffff, Math.max(0, Math.round(((v + offset) * 0xffff) / range)));
  return [scale(l, 0, 100), scale(a, 128, 255), scale(b, 128, 255)];
}
