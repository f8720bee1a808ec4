/**
 * Which decoder a single input file goes to: by content first (DICOM "DICM" marker, zip → .npz, gzip or a
 * 348/540-byte header → NIfTI, "NRRD000x" → NRRD, a MetaIO header → MetaImage, PNG/JPEG/TIFF/BMP signatures), then — for content nothing recognises, such as a
 * truncated or corrupt file — by extension, so the error comes from the decoder the user meant.
 */
import { DaftInputError } from "../errors.js";
import { loadDicomSeriesDecoder } from "./codecModules.js";
import { decodeMetaImageStudy } from "./metaImageStudy.js";
import { decodeNrrdStudy } from "./nrrdStudy.js";
import {
  decodeNiftiStudy,
  decodePictureStudy,
  sniffInputFormat,
  type SniffedFormat,
  type Study,
} from "./study.js";

const BY_EXTENSION: [RegExp, SniffedFormat][] = [
  [/\.npz$/i, "npz"],
  [/\.nii(\.gz)?$/i, "nifti"],
  [/\.(nrrd|nhdr)$/i, "nrrd"],
  [/\.(mha|mhd)$/i, "metaimage"],
  [/\.(dcm|dicom|ima)$/i, "dicom"],
  [/\.(png|jpe?g|tiff?|bmp)$/i, "picture"],
];

export const SUPPORTED_INPUTS =
  ".npz challenge cases, NIfTI (.nii, .nii.gz), NRRD (.nrrd), MetaImage (.mha), DICOM (a file, or a folder holding one series), PNG, JPEG, TIFF or BMP";

/** The format a file will be decoded as; an .npz name always means the challenge format. */
export function inputFormatOf(bytes: Uint8Array, name: string): SniffedFormat {
  if (/\.npz$/i.test(name)) return "npz";
  const sniffed = sniffInputFormat(bytes);
  if (sniffed) return sniffed;
  const byName = BY_EXTENSION.find(([pattern]) => pattern.test(name));
  if (byName) return byName[1];
  throw new DaftInputError(`not a recognised input; supported: ${SUPPORTED_INPUTS}`, name);
}

/**
 * Decodes a NIfTI, NRRD, MetaImage, single DICOM or picture file (not .npz: that is a challenge case, see
 * segmentChallengeCase). Asynchronous because pictures and DICOM load their decoders on first use (codecModules).
 */
export async function decodeStudyFile(bytes: Uint8Array, name: string): Promise<Study> {
  const plain = decodeStudyFileWithoutCodecs(bytes, name);
  if (plain) return plain;
  const format = inputFormatOf(bytes, name);
  if (format === "picture") return decodePictureStudy(bytes, name);
  if (format === "dicom") return (await loadDicomSeriesDecoder()).decodeDicomStudy([{ name, bytes }], name);
  throw new Error(`decodeStudyFile: ${name} is an .npz challenge case, not a study`);
}

/**
 * decodeStudyFile for the formats that need no codec module — NIfTI, NRRD, MetaImage — synchronously; undefined
 * for a picture, DICOM or .npz file (dataset import reads its volumes and probes dimensions with it).
 */
export function decodeStudyFileWithoutCodecs(bytes: Uint8Array, name: string): Study | undefined {
  const format = inputFormatOf(bytes, name);
  if (format === "nifti") return decodeNiftiStudy(bytes, name);
  if (format === "nrrd") return decodeNrrdStudy(bytes, name);
  if (format === "metaimage") return decodeMetaImageStudy(bytes, name);
  return undefined;
}
