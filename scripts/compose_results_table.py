"""The README's results table from two `scripts/evaluate_test_split.sh` tables: the shipped-model columns of a run
evaluated without its run folder (`... evaluate_test_split.sh -`: box, selected, selector-only, no-zoom,
no-mirroring, time) and the general and daft columns of an earlier evaluation that had the run folder (the same
general model). The daft column takes the selected cell wherever the shipped expert is a DAFT expert (its folder
in the manifest is daft-*: selected and DAFT are the same model) and the earlier daft cell elsewhere (a modality
served by the general expert, whose DAFT expert was never shipped); its mean is the mean of its rounded cells.
Usage: python3 scripts/compose_results_table.py RESULTS_MD EARLIER_RESULTS_MD MANIFEST_JSON > table.md"""
import json
import sys

MEAN = "**mean over modalities**"


def rows(path: str) -> dict[str, list[str]]:
    out = {}
    for line in open(path).read().splitlines():
        if line.startswith("| ") and not line.startswith("| modality"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            out[cells[0]] = cells
    return out


def compose(results: str, earlier: str, manifest_path: str) -> str:
    manifest = json.load(open(manifest_path))
    daft_shipped = {m for e in manifest["experts"] if e["encoder"]["file"].startswith("daft-") for m in e["modalities"]}
    now = rows(results)  # modality cases box selected selector-only no-zoom no-mirroring s
    before = rows(earlier)  # modality cases box general daft selected ...
    lines = [
        "| modality | cases | box | general | daft | selected | selected-selector-only | selected-no-zoom | "
        "selected-no-mirroring | median s/case (selected) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    daft_cells = []
    for m in sorted(k for k in now if k != MEAN):
        a, b = now[m], before[m]
        daft = a[3] if m in daft_shipped else b[4]
        daft_cells.append([float(v) for v in daft.split("/")])
        lines.append("| " + " | ".join([m, a[1], a[2], b[3], daft, *a[3:8]]) + " |")
    a, b = now[MEAN], before[MEAN]
    dsc = sum(c[0] for c in daft_cells) / len(daft_cells)
    nsd = sum(c[1] for c in daft_cells) / len(daft_cells)
    lines.append("| " + " | ".join([MEAN, a[1], a[2], b[3], f"**{dsc:.3f} / {nsd:.3f}**", *a[3:8]]) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__.splitlines()[-1])
    sys.stdout.write(compose(*sys.argv[1:]))
