/**
 * The picture decoders (PNG, JPEG, TIFF, BMP: raster.ts with fast-png, jpeg-js and utif2) and the DICOM series
 * decoder with its decompressors (dicomSeries.ts → dicomPixels.ts) are about half of the engine's code, and a
 * challenge .npz or a NIfTI volume never runs them. They are imported on first use, so that a fresh process — every
 * case may be one — does not parse them (measured: bench/RESULTS.md, "Codecs imported on first use"); bundlers
 * (esbuild for the CLI, Vite for the web app) turn each import() here into a chunk of its own.
 */

/** `load`, called once; a failed import (a chunk the browser could not fetch) is not kept: the next call retries. */
function once<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () =>
    (loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    }));
}

/** raster.ts: decodeRaster, encodePng, encodeRgbPng, decodeJpegSamples. */
export const loadRasterCodecs = once(() => import("./raster.js"));

/** dicomSeries.ts: decodeDicomStudy and the pixel decompressors it needs. */
export const loadDicomSeriesDecoder = once(() => import("./dicomSeries.js"));

/** dicomDecodeRequest.ts: answerDecodeRequest, one compressed slice decoded on the calling thread. */
export const loadDicomPixelDecoder = once(() => import("./dicomDecodeRequest.js"));
