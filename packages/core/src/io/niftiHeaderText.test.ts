/** The NIfTI header's text fields (descrip, intent_name, aux_file) as the reader exposes them for routing. */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readNifti, writeNifti } from "./nifti.js";
import { decodeNiftiStudy } from "./study.js";

const volume = () => new Uint8Array(4 * 3 * 2).map((_, i) => i);

describe("NIfTI header text fields", () => {
  it("round-trips descrip, intent_name and aux_file through writeNifti (cut to fit with a NUL)", () => {
    const bytes = writeNifti(volume(), [4, 3, 2], {
      text: {
        descrip: "TE=30;Time=140523.000;phase=1",
        intent_name: "x".repeat(20),
        aux_file: "CT_window.lut",
      },
    });
    expect(readNifti(bytes, "t.nii").text).toEqual({
      descrip: "TE=30;Time=140523.000;phase=1",
      intent_name: "x".repeat(15),
      aux_file: "CT_window.lut",
    });
    expect(decodeNiftiStudy(writeNifti(volume(), [4, 3, 2], { gzip: true }), "t.nii.gz").headerText).toEqual({
      descrip: "",
      intent_name: "",
      aux_file: "",
    });
  });

  it("reads control bytes as spaces, stops at NUL and trims", () => {
    const bytes = writeNifti(volume(), [4, 3, 2]);
    bytes.set([0x20, 0x01, 0x4d, 0x52, 0x7f, 0x54, 0x31, 0x20, 0, 0x43, 0x54], 148);
    expect(readNifti(bytes, "t.nii").text.descrip).toBe("MR T1");
  });

  const python = "/usr/bin/python3";
  const hasNibabel =
    existsSync(python) &&
    (() => {
      try {
        execFileSync(python, ["-c", "import nibabel"], { stdio: "ignore" });
        return true;
      } catch {
        return false;
      }
    })();
  it.skipIf(!hasNibabel)("reads what nibabel writes into NIfTI-1 and NIfTI-2 headers", () => {
    const dir = mkdtempSync(join(tmpdir(), "daft-nifti-text-"));
    try {
      const script = [
        "import sys, numpy as np, nibabel as nib",
        "for cls, name in ((nib.Nifti1Image, 'one.nii'), (nib.Nifti2Image, 'two.nii.gz')):",
        "    img = cls(np.zeros((4, 3, 2), np.int16), np.eye(4))",
        "    img.header['descrip'] = b'T1 MPRAGE'",
        "    img.header['aux_file'] = b'lut.txt'",
        "    img.header.set_intent('none', (), name='ADC')",
        "    nib.save(img, sys.argv[1] + '/' + name)",
      ].join("\n");
      execFileSync(python, ["-c", script, dir]);
      for (const name of ["one.nii", "two.nii.gz"]) {
        const nifti = readNifti(new Uint8Array(readFileSync(join(dir, name))), name);
        expect(nifti.version).toBe(name === "one.nii" ? 1 : 2);
        expect(nifti.text).toEqual({ descrip: "T1 MPRAGE", intent_name: "ADC", aux_file: "lut.txt" });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
