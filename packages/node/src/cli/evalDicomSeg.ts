/**
 * `daft eval`'s DICOM-SEG files: found in the pred and gt folders by name (`.seg.dcm`) or by content (any DICOM file
 * whose SOP Class is Segmentation Storage), and read as label maps onto the DICOM series they were made on, found
 * below the --dicom folder by the source images their frames refer to. The label map lies on the grid of the NIfTI
 * `daft segment` writes for that series — slices sorted along the normal, (z, y, x) voxel order, the series' LPS
 * affine as RAS, its voxel size — so a SEG scores against a SEG or against a label map of the same series.
 */
import { join } from "node:path";
import {
  DaftInputError,
  decodeDicomStudy,
  flipXY,
  readDicom,
  readDicomSegOnto,
  SEGMENTATION_STORAGE,
  type LabelMapArray,
  type Study,
} from "@daft/core";
import { readFileBytes } from "../io/fileBytes.js";
import {
  commonFolder,
  readDicomFileHeader,
  scanDicomFolder,
  seriesFilesOf,
  seriesOfSeg,
  type DicomImageHeader,
  type DicomSegHeader,
} from "./dicomFolderScan.js";

/** `daft segment --dicom-seg`'s name for a DICOM-SEG: always taken for one, so a broken one is reported. */
const DICOM_SEG_NAME = /\.seg\.dcm$/i;

/**
 * The DICOM-SEG files among `names` (files of `dir` that are not label maps), by name: the SEG's header, or
 * undefined for a `.seg.dcm` file that is not a readable DICOM Segmentation.
 */
export async function findDicomSegs(
  dir: string,
  names: readonly string[],
): Promise<Map<string, DicomSegHeader | undefined>> {
  const segs = new Map<string, DicomSegHeader | undefined>();
  for (const name of names) {
    const header = await readDicomFileHeader(join(dir, name));
    if (header?.kind === "seg") segs.set(name, header.seg);
    else if (DICOM_SEG_NAME.test(name)) segs.set(name, undefined);
  }
  return segs;
}

export interface DicomSegReader {
  /** The Series Instance UID of the series below --dicom that the SEG's frames refer to. */
  seriesOf(seg: DicomSegHeader): string | undefined;
  /** The SEG at `path` as a label map on its series' grid; a DaftInputError naming `path` when it cannot be. */
  read(path: string, seg: DicomSegHeader | undefined): Promise<LabelMapArray>;
  /** The SEG's series, its pixels decoded (eval's pictures: a few cases, so decoded only when asked). */
  series(path: string, seg: DicomSegHeader | undefined): Promise<Study>;
}

/** Without --dicom: every SEG is refused, in one line saying what to give. */
const refuseWithoutSeries = (path: string) =>
  Promise.reject(
    new DaftInputError(
      "a DICOM-SEG is scored on the DICOM series it was made on: give --dicom <folder holding that series>",
      path,
    ),
  );

export const READER_WITHOUT_SERIES: DicomSegReader = {
  seriesOf: () => undefined,
  read: refuseWithoutSeries,
  series: refuseWithoutSeries,
};

/** The series below `dicomDir` (read for their headers now, for their geometry when a SEG needs them). */
export async function openDicomSegReader(
  dicomDir: string,
  progress?: (files: number) => { tick(item: string): void },
): Promise<DicomSegReader> {
  const { images } = await scanDicomFolder(dicomDir, progress);
  const seriesFiles = seriesFilesOf(images);
  // The pred and gt SEGs of a case are read onto the same series one after the other.
  let last: { series: string; study: Study } | undefined;
  const seriesOf = (seg: DicomSegHeader) => seriesOfSeg(seg, images);
  const seriesFilesFor = (path: string, seg: DicomSegHeader | undefined) => {
    if (!seg) {
      throw new DaftInputError(
        `not a readable DICOM Segmentation (SOP Class ${SEGMENTATION_STORAGE}), though named like one`,
        path,
      );
    }
    const series = seriesOf(seg);
    if (series === undefined) throw new DaftInputError(seriesNotFound(seg, dicomDir, images), path);
    return { series, files: seriesFiles.get(series)! };
  };
  return {
    seriesOf,
    async read(path, seg) {
      const { series, files } = seriesFilesFor(path, seg);
      if (last?.series !== series) last = { series, study: await decodeSeries(files, path, "geometry") };
      return labelMapOnSeries(path, last.study);
    },
    async series(path, seg) {
      return decodeSeries(seriesFilesFor(path, seg).files, path, "pixels");
    },
  };
}

/**
 * Pairs by series what did not pair by name: a pred SEG and a gt SEG on the same series, when each is the only
 * unpaired SEG of its folder on that series (two gt SEGs on one series pair with nothing). Takes case key →
 * Series Instance UID for the unpaired SEGs of each folder; returns pred key → gt key.
 */
export function pairBySeries(
  gtSeries: ReadonlyMap<string, string>,
  predSeries: ReadonlyMap<string, string>,
): Map<string, string> {
  const onlyKeyBySeries = (keys: ReadonlyMap<string, string>) => {
    const bySeries = new Map<string, string[]>();
    for (const [key, series] of keys) bySeries.set(series, [...(bySeries.get(series) ?? []), key]);
    return new Map(
      [...bySeries].flatMap(([series, list]) => (list.length === 1 ? [[series, list[0]!]] : [])),
    );
  };
  const gtBySeries = onlyKeyBySeries(gtSeries);
  const pairs = new Map<string, string>();
  for (const [series, predKey] of onlyKeyBySeries(predSeries)) {
    const gtKey = gtBySeries.get(series);
    if (gtKey !== undefined) pairs.set(predKey, gtKey);
  }
  return pairs;
}

function seriesNotFound(
  seg: DicomSegHeader,
  dicomDir: string,
  images: Map<string, DicomImageHeader>,
): string {
  if (seg.referenced.size === 0) {
    return "DICOM-SEG names no source image (Referenced SOP Instance UID) to find its series by";
  }
  const seen = images.size === 0 ? "which holds no DICOM image" : `among its ${images.size} DICOM image(s)`;
  return `DICOM-SEG refers to ${seg.referenced.size} image(s), none of them in --dicom ${dicomDir} (${seen})`;
}

/**
 * The series as `daft segment` reads it (decodeDicomStudy: slices sorted, checked, placed). For "geometry" its
 * pixels are not decoded: a label map needs the slice order and geometry, not the intensities, so every slice is
 * handed over as already decoded (one shared zero plane) and compressed slices cost nothing here. A series that
 * cannot be read is a DaftInputError naming the SEG (the case) and the series' folder.
 */
async function decodeSeries(
  paths: readonly string[],
  segPath: string,
  what: "geometry" | "pixels",
): Promise<Study> {
  const folder = paths.length === 1 ? paths[0]! : commonFolder(paths);
  try {
    const files = await Promise.all(
      paths.map(async (path) => ({ name: path, bytes: await readFileBytes(path) })),
    );
    if (what === "pixels") return decodeDicomStudy(files, folder);
    const first = readDicom(files[0]!.bytes, files[0]!.name).tags;
    const zeroPlane = new Float32Array((first.rows ?? 0) * (first.columns ?? 0));
    return decodeDicomStudy(
      files.map((file) => ({ ...file, decodedValues: zeroPlane })),
      folder,
    );
  } catch (e) {
    const problem = e instanceof DaftInputError ? e : new DaftInputError((e as Error).message, folder);
    throw new DaftInputError(`its series cannot be read: ${problem.oneLine()}`, segPath);
  }
}

/** The SEG at `path` read onto `study` (a DICOM series or image), as daft segment's NIfTI of it reads back. */
async function labelMapOnSeries(path: string, study: Study): Promise<LabelMapArray> {
  if (!study.dicom) throw new Error(`labelMapOnSeries: ${study.source} is not DICOM`);
  const { labels } = readDicomSegOnto(readDicom(await readFileBytes(path), path), study.dicom, path);
  const volume = study.dimension === 3;
  return {
    data: labels,
    shape: volume ? [study.depth, study.height, study.width] : [study.height, study.width],
    ...(volume && study.spacing ? { spacing: [...study.spacing] } : {}),
    ...(study.geometry?.positioned ? { rasAffine: flipXY(study.geometry.affine) } : {}),
    format: study.format,
  };
}
