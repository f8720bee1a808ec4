/**
 * `daft eval`'s pictures of the cases it scores worst: each case's image with agreement, misses and extras tinted
 * (core agreementPicture), written as `<report>/pictures/<case>.png` and listed in summary.md, so the worst cases
 * are looked at rather than read about. The images come from `--images <dir>`, or — in the challenge layout
 * `<split>/gts/` — from the `imgs/` folder beside the ground truth, or for a DICOM-SEG case from its series; a case without a readable image of the ground
 * truth's shape is drawn on black, and one line says why. Pictures are named after the case key (`ct.nii.gz` →
 * `pictures/ct.png`).
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import {
  agreementPicture,
  AGREEMENT_COLOURS,
  chooseIntensityMapping,
  decodeStudyFile,
  encodeRgbPng,
  mapIntensities,
  readNpz,
  type AgreementCase,
  type LabelMapArray,
  type Study,
} from "@daft/core";
import { writeFileAtomic } from "../io/atomicWrite.js";
import { readFileBytes } from "../io/fileBytes.js";
import { folderEntries } from "../io/folderEntries.js";

/** A scored case, as eval.ts knows it after scoring. */
export interface ScoredCaseRef {
  /** Ground-truth file name (the picture is named after it). */
  name: string;
  /** The key pairing prediction, ground truth and image (caseKeyOf). */
  key: string;
  modality: string;
  dsc: number;
  nsd: number;
}

/**
 * Reads a scored case's two label maps again (they are not kept in memory while scoring), and the image to draw on
 * when the case has one of its own (a DICOM-SEG's series); otherwise the images folder's is used.
 */
export type LabelMapsOf = (
  c: ScoredCaseRef,
) => Promise<{ gt: LabelMapArray; pred: ArrayLike<number>; image?: () => Promise<AgreementCase["image"]> }>;

const IMAGE_FILE = /\.(npz|nii\.gz|nii|nrrd|mha|png|jpe?g|tiff?|bmp)$/i;

/** An image's case key: its name without format suffix and, except for a challenge case, nnU-Net's `_0000`. */
export function imageKeyOf(fileName: string): string {
  const stem = fileName.replace(IMAGE_FILE, "");
  return /\.npz$/i.test(fileName) ? stem : stem.replace(/_\d{4}$/, "");
}

/** `--images`, else the challenge layout's `imgs/` beside a ground-truth folder named `gts`. */
export function imagesFolderFor(gtDir: string, given: string | undefined): string | undefined {
  if (given !== undefined) return given;
  const beside = join(dirname(resolve(gtDir)), "imgs");
  return basename(resolve(gtDir)) === "gts" && existsSync(beside) ? beside : undefined;
}

/** The `count` lowest-DSC cases (NaN — nothing to score — left out), worst first. */
export function worstCases<T extends ScoredCaseRef>(cases: readonly T[], count: number): T[] {
  return cases
    .filter((c) => !Number.isNaN(c.dsc))
    .sort((a, b) => a.dsc - b.dsc || a.name.localeCompare(b.name))
    .slice(0, count);
}

/**
 * Draws the cases into `<outDir>/pictures/` and returns summary.md's section; `warn` gets one line per case drawn
 * without its image.
 */
export async function writeCasePictures(
  cases: readonly ScoredCaseRef[],
  options: { outDir: string; imagesDir?: string; labelMapsOf: LabelMapsOf; warn: (line: string) => void },
): Promise<string[]> {
  if (cases.length === 0) return [];
  const images = options.imagesDir ? await imageFilesByKey(options.imagesDir) : new Map<string, string>();
  await mkdir(join(options.outDir, "pictures"), { recursive: true });
  const rows: string[] = [];
  let withoutImage = 0;
  for (const [rank, c] of cases.entries()) {
    const { gt, pred, image } = await options.labelMapsOf(c);
    const kase: AgreementCase = { shape: gt.shape, gt: gt.data, pred };
    const imageFile = images.get(c.key);
    if (imageFile) {
      try {
        kase.image = await readDisplayImage(imageFile, gt.shape);
      } catch (e) {
        options.warn(`${imageFile}: warning: drawn without its image: ${(e as Error).message}`);
      }
    } else {
      try {
        kase.image = await image?.();
      } catch (e) {
        options.warn(`${c.name}: warning: drawn without its series' image: ${(e as Error).message}`);
      }
      if (!kase.image && options.imagesDir)
        options.warn(`${join(options.imagesDir, c.key)}: warning: no image for ${c.name}, drawn on black`);
    }
    if (!kase.image) withoutImage++;
    const picture = `pictures/${c.key.replace(/[^A-Za-z0-9._-]/g, "_")}.png`;
    await writeFileAtomic(join(options.outDir, picture), encodeRgbPng(agreementPicture(kase)));
    rows.push(
      `| ${rank + 1} | ${c.name} | ${c.modality} | ${c.dsc.toFixed(3)} | ${Number.isNaN(c.nsd) ? "–" : c.nsd.toFixed(3)} | ![${c.name}](${picture}) |`,
    );
  }
  const rgb = (c: readonly number[]) => `rgb(${c.join(",")})`;
  return [
    "## Worst cases",
    "",
    `The ${cases.length} case(s) with the lowest DSC on their images` +
      (withoutImage > 0 ? ` (${withoutImage} without one, drawn on black: give --images)` : "") +
      `; 3D cases as the slices where their labels go most wrong. Green (${rgb(AGREEMENT_COLOURS.agree)}): the same` +
      ` label in both; blue (${rgb(AGREEMENT_COLOURS.missed)}): ground truth the prediction missed; red` +
      ` (${rgb(AGREEMENT_COLOURS.extra)}): predicted where the ground truth has another label or none; yellow: the` +
      " ground truth's outline.",
    "",
    "| rank | case | modality | DSC | NSD | picture |",
    "|---:|---|---|---:|---:|---|",
    ...rows,
    "",
  ];
}

/** A decoded study's values mapped to 0..255 as `daft segment` maps them (CT windowed, 8-bit as is, percentiles). */
export function displayImageOfStudy(study: Study): { data: Uint8Array; channels: number } {
  const mapping = chooseIntensityMapping({
    eightBit: study.eightBit,
    values: study.values,
    ...(study.modality ? { modality: { name: study.modality, from: "the image" } } : {}),
  });
  return { data: mapIntensities(study.values, mapping, study.invert), channels: study.channels };
}

async function imageFilesByKey(dir: string): Promise<Map<string, string>> {
  const byKey = new Map<string, string>();
  for (const entry of await folderEntries(dir)) {
    if (entry.isFile() && IMAGE_FILE.test(entry.name))
      byKey.set(imageKeyOf(entry.name), join(dir, entry.name));
  }
  return byKey;
}

/**
 * The image as the model sees it (challenge `imgs` as stored; other formats mapped to 0..255 as `daft segment`
 * maps them: CT windowed, 8-bit as is, else percentiles), checked against the ground truth's shape.
 */
async function readDisplayImage(file: string, shape: readonly number[]): Promise<AgreementCase["image"]> {
  const bytes = await readFileBytes(file);
  let image: { data: ArrayLike<number>; channels: number; shape: number[] };
  if (/\.npz$/i.test(file)) {
    const imgs = readNpz(bytes).get("imgs");
    if (!imgs) throw new Error("no 'imgs' array");
    const colour = imgs.shape.length === 3 && shape.length === 2;
    image = {
      data: imgs.data as ArrayLike<number>,
      channels: colour ? imgs.shape[2]! : 1,
      shape: colour ? imgs.shape.slice(0, 2) : imgs.shape,
    };
  } else {
    const study = await decodeStudyFile(bytes, file);
    image = {
      ...displayImageOfStudy(study),
      shape: study.dimension === 3 ? [study.depth, study.height, study.width] : [study.height, study.width],
    };
  }
  if (image.shape.join("×") !== shape.join("×"))
    throw new Error(`image ${image.shape.join("×")} but ground truth ${shape.join("×")}`);
  return { data: image.data, channels: image.channels };
}
