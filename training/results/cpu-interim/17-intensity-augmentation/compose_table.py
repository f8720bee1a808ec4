"""The README's run-11 table: the shipped-model columns of results.md (run 11, measured), the general column of
run 9's evaluation (../13-min-steps-per-epoch/results.md: the same general model), and the daft column: for every
modality whose shipped expert is a DAFT expert (its folder in ../../../../models/manifest.json is daft-*), its
selected cell; for the others (Fundus, served by the general expert), run 9's daft cell — that DAFT expert was
never shipped and its run folder is not in this checkout. The daft mean is the mean of its nine rounded cells.
Usage: python3 compose_table.py > table-readme.md"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
MANIFEST = os.path.join(HERE, "..", "..", "..", "..", "models", "manifest.json")
MODALITIES = ["CT", "Dermoscopy", "Endoscopy", "Fundus", "MR", "Mammography", "Microscopy", "US", "XRay"]
MEAN = "**mean over modalities**"


def rows(path):
    out = {}
    for line in open(path).read().splitlines():
        if line.startswith("| ") and not line.startswith("| modality"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            out[cells[0]] = cells
    return out


manifest = json.load(open(MANIFEST))
daft_shipped = {m for e in manifest["experts"] if e["encoder"]["file"].startswith("daft-") for m in e["modalities"]}
run11 = rows(os.path.join(HERE, "results.md"))  # modality cases box selected selector-only no-zoom no-mirroring s
run9 = rows(os.path.join(HERE, "..", "13-min-steps-per-epoch", "results.md"))  # ... box general daft selected ...
print("| modality | cases | box | general | daft | selected | selected-selector-only | selected-no-zoom | "
      "selected-no-mirroring | median s/case (selected) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
daft_cells = []
for m in MODALITIES:
    a, b = run11[m], run9[m]
    daft = a[3] if m in daft_shipped else b[4]
    daft_cells.append([float(v) for v in daft.split("/")])
    print("| " + " | ".join([m, a[1], a[2], b[3], daft, *a[3:8]]) + " |")
a, b = run11[MEAN], run9[MEAN]
dsc = sum(c[0] for c in daft_cells) / len(daft_cells)
nsd = sum(c[1] for c in daft_cells) / len(daft_cells)
print("| " + " | ".join([MEAN, a[1], a[2], b[3], f"**{dsc:.3f} / {nsd:.3f}**", *a[3:8]]) + " |")
