"""WiSE-FT style weight interpolation: alpha x each DAFT expert + (1 - alpha) x the shipped general expert, both
imported from the shipped ONNX files (BatchNorm folded), exported into a zoo beside links to the untouched experts.
Usage (repository root): PYTHONPATH=training /usr/bin/python3 THIS_FILE ALPHA OUT_DIR EXPERT,EXPERT,..."""
import json, os, shutil, sys
import torch
from daft_train.config import get_config
from daft_train.export.onnx_import import import_expert
from daft_train.export.onnx_export import export_onnx
from daft_train.data.cache import sha256_file

alpha = float(sys.argv[1]); out = sys.argv[2]; names = sys.argv[3].split(",")
cfg = get_config("cpu")
general, _ = import_expert("models", "general", cfg)
g = general.state_dict()
manifest = json.load(open("models/manifest.json"))
os.makedirs(out, exist_ok=True)
for entry in manifest["experts"]:
    folder = os.path.dirname(entry["encoder"]["file"])
    if entry["name"] not in names:
        if not os.path.exists(os.path.join(out, folder)):
            os.symlink(os.path.abspath(os.path.join("models", folder)), os.path.join(out, folder))
        continue
    expert, _ = import_expert("models", entry["name"], cfg)
    e = expert.state_dict()
    mixed = {k: (alpha * e[k] + (1 - alpha) * g[k]) if e[k].is_floating_point() else e[k] for k in e}
    expert.load_state_dict(mixed)
    export_onnx(expert, os.path.join(out, folder))
    for part in ("encoder", "decoder"):
        entry[part]["sha256"] = sha256_file(os.path.join(out, entry[part]["file"]))
    entry["version"] += f"-wise{alpha}"
    print(entry["name"], "mixed", alpha, flush=True)
shutil.copyfile("models/selector.json", os.path.join(out, "selector.json"))
json.dump(manifest, open(os.path.join(out, "manifest.json"), "w"), indent=1)
