/**
 * The picture decoders (PNG, JPEG, TIFF, BMP: raster.ts with fast-png, jpeg-js and utif2) and the DICOM series
 * decoder with its decompressors (dicomSeries.ts → dicomPixels.ts) are about half of the engine's code, and a
 * challenge .npz or a NIfTI volume never runs them. They are imported on first use, so that a fresh process — every
 * case may be one — does not parse them (measured: bench/RESULTS.md, "Codecs imported on first use"); bundlers
 * (esbuild for the CLI, Vite for the web app) turn each import() here into a chunk of its own.
 */

type RasterModule = typeof import("./raster.js");
type DicomSeriesModule = typeof import("./dicomSeries.js");
type DicomPixelDecoderModule = typeof import("./dicomDecodeRequest.js");

let raster: Promise<RasterModule> | undefined;
let dicomSeries: Promise<DicomSeriesModule> | undefined;
let dicomPixelDecoder: Promise<DicomPixelDecoderModule> | undefined;

/** raster.ts: decodeRaster, encodePng, decodeJpegSamples; imported once. */
export function loadRasterCodecs(): Promise<RasterModule> {
  raster ??= import("./raster.js").catch(forget(() => (raster = undefined)));
  return raster;
}

/** dicomSeries.ts: decodeDicomStudy and the pixel decompressors it needs; imported once. */
export function loadDicomSeriesDecoder(): Promise<DicomSeriesModule> {
  dicomSeries ??= import("./dicomSeries.js").catch(forget(() => (dicomSeries = undefined)));
  return dicomSeries;
}

/** dicomDecodeRequest.ts: answerDecodeRequest, one compressed slice decoded on the calling thread; imported once. */
export function loadDicomPixelDecoder(): Promise<DicomPixelDecoderModule> {
  dicomPixelDecoder ??= import("./dicomDecodeRequest.js").catch(
    forget(() => (dicomPixelDecoder = undefined)),
  );
  return dicomPixelDecoder;
}

/** A failed import (a chunk the browser could not fetch) is not kept: the next call tries again. */
function forget(reset: () => void): (error: unknown) => never {
  return (error) => {
    reset();
    throw error;
  };
}
