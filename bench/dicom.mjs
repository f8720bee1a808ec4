// What reading compressed DICOM costs a user: `daft segment` on one CT series stored six ways — uncompressed,
// JPEG Lossless SV1, RLE Lossless and JPEG-LS (compressed by dcmtk, the Debian package scripts/setup.sh installs) and
// JPEG 2000 lossless (OpenJPEG's opj_compress, Debian libopenjp2-tools) and HTJ2K lossless (OpenJPH's ojph_compress,
// Debian openjph-tools; each left out when its encoder is missing) — each run
// a fresh process from spawn to exit, the formats interleaved run by run so the machine's drift hits them alike.
// Reports the median wall time and the median input-decoding time the CLI records (timings.csv io_ms), and checks
// that the label maps are the same bytes.
//
//   npx tsc -b packages/core packages/node && node bench/dicom.mjs [--models models] [--repeats 5] [--slices 120]
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { measureProcess, parseCsv } from "./measure.mjs";
import { describeMachine, median } from "./report.mjs";

const root = join(import.meta.dirname, "..");
const { values: o } = parseArgs({
  options: {
    models: { type: "string", default: join(root, "models") },
    repeats: { type: "string", default: "5" },
    slices: { type: "string", default: "120" },
  },
});
const repeats = Number(o.repeats);
const slices = Number(o.slices);
const out = join(root, "bench/out/dicom");
const fail = (message) => {
  console.error(`bench/dicom.mjs: ${message}`);
  process.exit(1);
};
for (const tool of ["dcmcjpeg", "dcmcrle"]) {
  if (spawnSync(tool, ["--version"], { stdio: "ignore" }).status !== 0)
    fail(`${tool} (dcmtk) is not installed`);
}

/** pydicom writes an uncompressed 512×512 CT series: a body, an organ ellipsoid, bone, noise; int16 HU. */
const MAKE_SERIES = String.raw`
import sys
import numpy as np
from pydicom.dataset import FileDataset, FileMetaDataset
out, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(3)
y, x = np.mgrid[0:512, 0:512]
for k in range(n):
    hu = np.full((512, 512), -1000.0)
    hu[((x - 256) / 200) ** 2 + ((y - 256) / 150) ** 2 < 1] = 40
    zc = (k - n / 2) / (n / 3)
    if abs(zc) < 1:
        r = np.sqrt(1 - zc * zc)
        hu[((x - 300) / (70 * r)) ** 2 + ((y - 230) / (50 * r)) ** 2 < 1] = 120
    hu[((x - 256) / 25) ** 2 + ((y - 360) / 25) ** 2 < 1] = 900
    hu += rng.normal(0, 15, hu.shape)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    meta.MediaStorageSOPInstanceUID = f"1.2.826.0.1.3680043.8.498.90.{k + 1}"
    meta.TransferSyntaxUID = "1.2.840.10008.1.2.1"
    ds = FileDataset(f"{out}/IM{k:04d}", {}, file_meta=meta, preamble=b"\0" * 128)
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID, "CT"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = "1.2.826.0.1.3680043.8.498.90", "1.2.826.0.1.3680043.8.498.90.0"
    ds.FrameOfReferenceUID = "1.2.826.0.1.3680043.8.498.90.9"
    ds.ImagePositionPatient, ds.ImageOrientationPatient = [-180.0, -180.0, 2.5 * k], [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing, ds.SliceThickness = [0.7, 0.7], 2.5
    ds.Rows = ds.Columns = 512
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.RescaleSlope, ds.RescaleIntercept = 1, 0
    ds.PixelData = np.clip(np.round(hu), -1024, 3071).astype("<i2").tobytes()
    ds.save_as(f"{out}/IM{k:04d}", write_like_original=False)
`;

/** One native slice (argv 1) → JPEG 2000 lossless (argv 2): opj_compress's default 5/3 codestream, encapsulated. */
const MAKE_J2K = String.raw`
import subprocess, sys, tempfile
import pydicom
from pydicom.encaps import encapsulate
src, dst = sys.argv[1], sys.argv[2]
ds = pydicom.dcmread(src)
with tempfile.TemporaryDirectory() as d:
    ds.pixel_array.astype("<i2").tofile(f"{d}/in.rawl")
    subprocess.run(["opj_compress", "-i", f"{d}/in.rawl", "-o", f"{d}/out.j2k", "-F", f"{ds.Columns},{ds.Rows},1,16,s"],
                   check=True, stdout=subprocess.DEVNULL)
    with open(f"{d}/out.j2k", "rb") as f:
        ds.PixelData = encapsulate([f.read()])
ds["PixelData"].VR = "OB"
ds["PixelData"].is_undefined_length = True
ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.90"
ds.save_as(dst, write_like_original=False)
`;
const haveOpenJpeg = !spawnSync("opj_compress", ["-h"], { stdio: "ignore" }).error;
if (!haveOpenJpeg) console.error("bench/dicom.mjs: opj_compress is not installed: JPEG 2000 is left out");

/**
 * One native slice (argv 1) → HTJ2K lossless (argv 2) by OpenJPH's ojph_compress (reversible, its defaults). OpenJPH
 * 0.9 reads raw samples as unsigned, so the signed slice goes in offset by 2^15 and the component is then marked
 * signed in SIZ (as fixtures/formats/htj2k/make_htj2k_dicom.sh explains): the codestream of the signed samples.
 */
const MAKE_HTJ2K = String.raw`
import subprocess, sys, tempfile
import numpy as np
import pydicom
from pydicom._uid_dict import UID_dictionary
from pydicom.encaps import encapsulate
HTJ2K_LOSSLESS = "1.2.840.10008.1.2.4.201"
UID_dictionary.setdefault(HTJ2K_LOSSLESS, ("High-Throughput JPEG 2000 Image Compression (Lossless Only)",
                                           "Transfer Syntax", "", "", "HTJ2K"))
src, dst = sys.argv[1], sys.argv[2]
ds = pydicom.dcmread(src)
with tempfile.TemporaryDirectory() as d:
    (ds.pixel_array.astype(np.int64) + 2 ** 15).astype("<u2").tofile(f"{d}/in.yuv")
    subprocess.run(["ojph_compress", "-i", f"{d}/in.yuv", "-o", f"{d}/out.j2c", "-reversible", "true",
                    "-dims", f"{{{ds.Columns},{ds.Rows}}}", "-num_comps", "1", "-signed", "false",
                    "-bit_depth", "16", "-downsamp", "{1,1}"], check=True, stdout=subprocess.DEVNULL)
    with open(f"{d}/out.j2c", "rb") as f:
        codestream = bytearray(f.read())
assert codestream[42] == 15  # SIZ Ssiz of component 0: 16 bits, unsigned
codestream[42] |= 0x80
ds.PixelData = encapsulate([bytes(codestream)])
ds["PixelData"].VR = "OB"
ds["PixelData"].is_undefined_length = True
ds.file_meta.TransferSyntaxUID = HTJ2K_LOSSLESS
ds.save_as(dst, write_like_original=False)
`;
const haveOpenJph = !spawnSync("ojph_compress", [], { stdio: "ignore" }).error;
if (!haveOpenJph) console.error("bench/dicom.mjs: ojph_compress is not installed: HTJ2K is left out");

const formats = [
  { id: "uncompressed", folder: "native", make: null },
  { id: "JPEG Lossless SV1", folder: "jpeg_sv1", make: ["dcmcjpeg", "+e1"] },
  { id: "RLE Lossless", folder: "rle", make: ["dcmcrle"] },
  { id: "JPEG-LS lossless", folder: "jpeg_ls", make: ["dcmcjpls", "+el"] },
  ...(haveOpenJpeg
    ? [{ id: "JPEG 2000 lossless", folder: "j2k", make: ["/usr/bin/python3", "-c", MAKE_J2K] }]
    : []),
  ...(haveOpenJph
    ? [{ id: "HTJ2K lossless", folder: "htj2k", make: ["/usr/bin/python3", "-c", MAKE_HTJ2K] }]
    : []),
];

function ensureSeries() {
  const stamp = join(out, `series-${slices}-${formats.length}.done`);
  if (existsSync(stamp)) return;
  rmSync(out, { recursive: true, force: true });
  for (const f of formats) mkdirSync(join(out, f.folder), { recursive: true });
  console.error(`writing a ${slices}-slice 512×512 CT series and compressing it with dcmtk…`);
  const made = spawnSync("/usr/bin/python3", ["-c", MAKE_SERIES, join(out, "native"), String(slices)], {
    stdio: "inherit",
  });
  if (made.status !== 0) fail("pydicom could not write the series");
  for (const f of formats.filter((f) => f.make)) {
    for (const file of readdirSync(join(out, "native"))) {
      const [tool, ...args] = f.make;
      const r = spawnSync(tool, [...args, join(out, "native", file), join(out, f.folder, file)]);
      if (r.status !== 0) fail(`${tool} failed on ${file}: ${r.stderr}`);
    }
  }
  writeFileSync(stamp, "");
}

const sizeMb = (folder) =>
  readdirSync(folder).reduce((n, f) => n + readFileSync(join(folder, f)).length, 0) / 2 ** 20;

ensureSeries();
const box = `150,130,${Math.round(slices * 0.3)},380,300,${Math.round(slices * 0.7)}`;
const results = formats.map((f) => ({ ...f, wall: [], io: [], labels: undefined }));
for (let run = 0; run < repeats; run++) {
  for (const f of results) {
    const dest = join(out, `run-${f.folder}`);
    rmSync(dest, { recursive: true, force: true });
    const m = await measureProcess(
      process.execPath,
      [
        join(root, "packages/node/bin/daft.js"),
        "segment",
        join(out, f.folder),
        "-o",
        dest,
        "--box",
        box,
        "--models",
        o.models,
        "--quiet",
      ],
      { timeoutMs: 1_800_000, cwd: root },
    );
    if (m.exitCode !== 0) fail(`${f.id}: daft segment failed: ${m.stderrTail}`);
    const row = parseCsv(readFileSync(join(dest, "timings.csv"), "utf8"))[0];
    f.wall.push(m.wallMs);
    f.io.push(Number(row.io_ms));
    const labels = readFileSync(join(dest, `${f.folder}.nii.gz`));
    f.labels ??= labels;
    console.error(`${f.id}: run ${run + 1}/${repeats} ${(m.wallMs / 1000).toFixed(2)} s, io ${row.io_ms} ms`);
  }
}
const reference = results[0].labels;
// The NIfTI files store no name, so the same labels and geometry are the same bytes.
const sameLabels = results.every((r) => r.labels.equals(reference));
const machine = describeMachine(root, "—");
const lines = [
  `DICOM reading, ${slices}×512×512 CT series, one box over ${Math.round(slices * 0.4) + 1} slices, ` +
    `${repeats} fresh processes per format, interleaved (git ${machine.git}, ${machine.cpu}, ${machine.cores} cores):`,
  "",
  "| stored as | files MB | median wall s | median io ms (read + decode + write) |",
  "|---|---:|---:|---:|",
  ...results.map(
    (r) =>
      `| ${r.id} | ${sizeMb(join(out, r.folder)).toFixed(1)} | ${(median(r.wall) / 1000).toFixed(2)} | ${Math.round(median(r.io))} |`,
  ),
  "",
  `Label maps identical across the ${results.length}: ${sameLabels ? "yes" : "NO"}.`,
  "",
  "Command: `node bench/dicom.mjs" +
    (o.models === join(root, "models") ? "" : ` --models ${o.models}`) +
    ` --repeats ${repeats} --slices ${slices}\`.`,
];
writeFileSync(join(out, "results.md"), `${lines.join("\n")}\n`);
console.log(lines.join("\n"));
if (!sameLabels) process.exit(1);
