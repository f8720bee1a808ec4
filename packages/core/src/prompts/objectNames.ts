/**
 * Names of the objects the boxes prompt for ("necrosis", "left lung", …), so that the outputs clinicians open say
 * what each label is: the DICOM-SEG's Segment Label, the 3D Slicer segment names, objects.csv, MONAI Label's
 * label_names. Without names a label is "box <n>". Given by `--names a,b,c`, a boxes JSON file's "names", or the
 * HTTP request's `names`; one per box, in box order (label = index + 1).
 *
 * A name is 1–64 printable ASCII characters (DICOM's LO in the default repertoire, whatever character set the
 * source DICOM declares; Slicer's NRRD header), without a backslash (DICOM's value separator), a comma (`--names`'
 * separator; objects.csv stays plain CSV) or a double quote.
 */
import { DaftInputError } from "../errors.js";

export const MAX_NAME_LENGTH = 64;

/** One name, checked; `where` says where it came from in messages. */
export function checkObjectName(value: unknown, where: string): string {
  if (typeof value !== "string")
    throw new DaftInputError(`${where} is not a string: ${JSON.stringify(value)}`);
  const name = value.trim();
  if (name === "") throw new DaftInputError(`${where} is empty`);
  if (name.length > MAX_NAME_LENGTH)
    throw new DaftInputError(
      `${where} ${JSON.stringify(name.slice(0, 20) + "…")} is longer than ${MAX_NAME_LENGTH} characters`,
    );
  if (!/^[\x20-\x7e]+$/.test(name) || /[\\,"]/.test(name))
    throw new DaftInputError(`${where} ${JSON.stringify(name)}: a name is printable ASCII without \\ , or "`);
  return name;
}

/** `--names a,b,c`: comma-separated, each trimmed. */
export function parseNamesArgument(text: string): string[] {
  return text.split(",").map((part, i) => checkObjectName(part, `--names: name ${i + 1}`));
}

/** The names checked against the boxes they name: one per box, each naming one label (no two alike). */
export function namesForBoxes(names: readonly string[], boxCount: number): string[] {
  if (names.length !== boxCount) {
    throw new DaftInputError(
      `${names.length} object name(s) for ${boxCount} box(es): give one name per box, in box order`,
    );
  }
  const seen = new Map<string, number>();
  names.forEach((name, i) => {
    const earlier = seen.get(name);
    if (earlier !== undefined)
      throw new DaftInputError(
        `boxes ${earlier + 1} and ${i + 1} are both named "${name}": each label needs its own name`,
      );
    seen.set(name, i);
  });
  return [...names];
}

/**
 * The names a file gives the label values that become boxes (a Slicer segmentation's segment names, a DICOM-SEG's
 * Segment Labels: names[value − 1]), in box order — or none when one is missing, is not a valid object name, or
 * two are alike: the boxes are then "box <n>" rather than the input failing over a name.
 */
export function namesOfLabels(
  names: readonly (string | undefined)[] | undefined,
  values: readonly number[],
): string[] | undefined {
  if (!names) return undefined;
  try {
    return namesForBoxes(
      values.map((v, i) => checkObjectName(names[v - 1], `name ${i}`)),
      values.length,
    );
  } catch {
    return undefined;
  }
}

/** Label n's name (1-based): its given name, else "box n". */
export function objectName(names: readonly string[] | undefined, label: number): string {
  return names?.[label - 1] ?? `box ${label}`;
}
