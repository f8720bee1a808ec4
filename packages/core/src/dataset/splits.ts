import { sha256Hex } from "./sha256.js";

/** The three challenge splits, in the order they are usually listed. */
export const SPLIT_NAMES = ["train", "val", "test"] as const;
export type SplitName = (typeof SPLIT_NAMES)[number];

/** Fraction of cases that go to "test", and (of the rest) to "val". */
const TEST_FRACTION = 0.2;
const VAL_FRACTION = 0.2;

/**
 * A number in [0, 1) that depends only on `key`: the first 8 hex digits of SHA-256(key) / 2^32.
 * Python: `int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 2**32`.
 */
export function unitHash(key: string): number {
  return parseInt(sha256Hex(key).slice(0, 8), 16) / 2 ** 32;
}

/**
 * The split of one case. The test split depends only on dataset and case (never on the seed), so a
 * test case stays a test case whatever seed is used; adding cases never moves existing ones.
 * @param dataset the dataset.json "name"
 * @param caseId the image file stem, e.g. "kvasir_0001"
 */
export function splitOfCase(dataset: string, caseId: string, seed = 0): SplitName {
  if (unitHash(`daft-test/${dataset}/${caseId}`) < TEST_FRACTION) return "test";
  if (unitHash(`daft-val/${seed}/${dataset}/${caseId}`) < VAL_FRACTION) return "val";
  return "train";
}

/** Parses "train,val" into split names; throws on an unknown one. */
export function parseSplitList(text: string): SplitName[] {
  const names = text
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
  for (const name of names) {
    if (!(SPLIT_NAMES as readonly string[]).includes(name)) {
      throw new Error(`unknown split "${name}" (expected ${SPLIT_NAMES.join(", ")})`);
    }
  }
  return names as SplitName[];
}
