"""models/manifest.json (format "daft-manifest", version 1): validator and writer.

The zod schema in packages/core/src/manifest/schema.ts is the truth; this is the same shape in plain Python.
Like zod, unknown keys are ignored and missing ``routing`` fields take their defaults.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MANIFEST_FORMAT = "daft-manifest"
MANIFEST_VERSION = 1
# Test-time mirroring modes of the engine (packages/core/src/pipeline/testTimeMirroring.ts).
TEST_TIME_MIRRORINGS = ("off", "x", "xy")
DEFAULT_TEST_TIME_MIRRORING = "xy"

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_EXPERT_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


def _token(alternatives: str) -> str:
    """Case-insensitive whole-token regex: the alternatives bounded by a non-alphanumeric character or an end
    (underscores separate tokens, so \\b is not used). Valid in both Python ``re`` and JavaScript."""
    return f"(?:^|[^A-Za-z0-9])(?:{alternatives})(?:[^A-Za-z0-9]|$)"


# Tested in order against the file base name, first match wins (OCT before CT).
DEFAULT_FILENAME_RULES: list[dict[str, str]] = [
    {"pattern": _token("OCT"), "modality": "OCT"},
    {"pattern": _token("CT"), "modality": "CT"},
    {"pattern": _token("MR|MRI"), "modality": "MR"},
    {"pattern": _token("PET"), "modality": "PET"},
    {"pattern": _token("US|Ultra|Ultrasound"), "modality": "US"},
    {"pattern": _token("X-Ray|XRay|CXR|XR"), "modality": "XRay"},
    {"pattern": _token("Mammo|Mamm|Mammography"), "modality": "Mammography"},
    {"pattern": _token("Dermoscopy|Dermoscope"), "modality": "Dermoscopy"},
    {"pattern": _token("Endoscopy|Endoscope"), "modality": "Endoscopy"},
    {"pattern": _token("Fundus"), "modality": "Fundus"},
    {"pattern": _token("Microscopy|Microscope"), "modality": "Microscopy"},
]

# DICOM (0008,0060) Modality → foundation modality.
DEFAULT_METADATA_MODALITIES: dict[str, str] = {
    "CT": "CT",
    "MR": "MR",
    "PT": "PET",
    "US": "US",
    "CR": "XRay",
    "DX": "XRay",
    "RG": "XRay",
    "MG": "Mammography",
    "XC": "Dermoscopy",
    "ES": "Endoscopy",
    "OP": "Fundus",
    "OPT": "OCT",
    "SM": "Microscopy",
    "GM": "Microscopy",
}


# NIfTI header text → foundation modality; the twin of packages/core/src/manifest/niftiHeaderRules.ts (ordered,
# case-insensitive, first match wins; "fields" absent = descrip, intent_name, aux_file). Both sides are tested
# against the same table of real-world header strings.
NIFTI_TEXT_FIELDS = ("descrip", "intent_name", "aux_file")
DEFAULT_NIFTI_HEADER_RULES: list[dict] = [
    {"pattern": _token("OCT|Optical Coherence Tomography"), "modality": "OCT"},
    # Before CT: a PET of a PET/CT study says both.
    {"pattern": _token("PET|FDG|PSMA|SUV|SUVbw"), "modality": "PET"},
    {"pattern": _token("CT|CTA|CBCT|HRCT|NCCT|CECT|Computed Tomography"), "modality": "CT"},
    {"pattern": _token("MR|MRI|MRA|fMRI|T1|T1w|T1c|T1ce|T1Gd|T2|T2w|T2star|FLAIR|DWI|DTI|ADC|SWI|MPRAGE|MP-RAGE|MP2RAGE|SPGR|BOLD|PDw|STIR"),
     "modality": "MR"},
    # dcm2niix writes "TE=<ms>;Time=<hhmmss>" for MR only ("Time=..." otherwise; versions before 2017 wrote TE=0
    # for every modality); SPM writes "TR=<ms>ms/TE=<ms>ms/FA=<deg>deg". A non-zero TE or TR is an MR sequence.
    {"pattern": r"(?:^|[^A-Za-z0-9])(?:TE|TR)=\s*(?:0*[1-9]|0*\.0*[1-9])", "modality": "MR", "fields": ["descrip"]},
    {"pattern": _token("US|Ultrasound|Ultrasonography|Sonography|Echocardiography|Echocardiogram"), "modality": "US"},
    {"pattern": _token("X-Ray|XRay|CXR|XR|Radiograph|Radiography"), "modality": "XRay"},
    {"pattern": _token("Mammo|Mamm|Mammography|Mammogram|Tomosynthesis"), "modality": "Mammography"},
    {"pattern": _token("Dermoscopy|Dermoscope|Dermatoscopy"), "modality": "Dermoscopy"},
    {"pattern": _token("Endoscopy|Endoscope|Colonoscopy|Gastroscopy"), "modality": "Endoscopy"},
    {"pattern": _token("Fundus"), "modality": "Fundus"},
    {"pattern": _token("Microscopy|Microscope|Histology|Histopathology"), "modality": "Microscopy"},
]


def modality_from_nifti_header(text: dict[str, str], rules: list[dict] | None = None) -> str | None:
    """The first rule (in order) matching one of its fields of ``text`` ({"descrip": ..., ...}); None otherwise."""
    for rule in DEFAULT_NIFTI_HEADER_RULES if rules is None else rules:
        for field in rule.get("fields", NIFTI_TEXT_FIELDS):
            value = text.get(field)
            if value and re.search(rule["pattern"], value, flags=re.IGNORECASE):
                return rule["modality"]
    return None


def modality_from_filename(base_name: str, rules: list[dict[str, str]] | None = None) -> str | None:
    for rule in DEFAULT_FILENAME_RULES if rules is None else rules:
        if re.search(rule["pattern"], base_name, flags=re.IGNORECASE):
            return rule["modality"]
    return None


class ManifestError(ValueError):
    """Every problem of a manifest, joined on one line as ``path: message; ...``."""

    def __init__(self, issues: list[str]):
        self.issues = issues
        super().__init__("invalid manifest: " + "; ".join(issues))


def _is_int(v: Any) -> bool:
    return not isinstance(v, bool) and (
        isinstance(v, int) or (isinstance(v, float) and math.isfinite(v) and v.is_integer())
    )


def _is_number(v: Any) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(v)


def _check_relative_file(f: Any, path: str, issues: list[str]) -> None:
    if not isinstance(f, str):
        issues.append(f"{path}: expected string")
    elif len(f) < 1:
        issues.append(f"{path}: must not be empty")
    elif f.startswith("/") or ".." in re.split(r"[\\/]", f):
        issues.append(f"{path}: model files must be relative paths inside the models folder")


def _check_onnx_file(value: Any, path: str, issues: list[str]) -> None:
    if not isinstance(value, dict):
        issues.append(f"{path}: expected object")
        return
    _check_relative_file(value.get("file"), f"{path}.file", issues)
    h = value.get("sha256")
    if not isinstance(h, str):
        issues.append(f"{path}.sha256: expected string")
    elif not _SHA256.match(h):
        issues.append(f"{path}.sha256: sha256 must be 64 lowercase hex digits")


def _check_rules(rules: object, path: str, issues: list[str]) -> list:
    """A list of {pattern, modality} rules (file-name or NIfTI-header); returns it ([] when not a list)."""
    if not isinstance(rules, list):
        issues.append(f"{path}: expected array")
        return []
    for i, r in enumerate(rules):
        p = f"{path}.{i}"
        if not isinstance(r, dict):
            issues.append(f"{p}: expected object")
            continue
        for key in ("pattern", "modality"):
            if not isinstance(r.get(key), str) or len(r.get(key)) < 1:
                issues.append(f"{p}.{key}: expected a non-empty string")
    return rules


# a calibration, not a second model: an offset beyond this would mean the logits carry no information at 0
MAX_MASK_LOGIT_OFFSET = 10.0
# Largest guided-filter radius of edgeRefinement, in model-frame pixels (packages/core/src/pipeline/edgeRefinement.ts).
MAX_EDGE_RADIUS = 8.0


def _check_expert(e: Any, path: str, issues: list[str]) -> None:
    if not isinstance(e, dict):
        issues.append(f"{path}: expected object")
        return
    name = e.get("name")
    if not isinstance(name, str) or not _EXPERT_NAME.match(name):
        issues.append(f"{path}.name: expected a name of letters, digits, '_', '.', '-'")
    mods = e.get("modalities")
    if not isinstance(mods, list):
        issues.append(f"{path}.modalities: expected array")
    else:
        for i, m in enumerate(mods):
            if not isinstance(m, str) or len(m) < 1:
                issues.append(f"{path}.modalities.{i}: expected a non-empty string")
    _check_onnx_file(e.get("encoder"), f"{path}.encoder", issues)
    _check_onnx_file(e.get("decoder"), f"{path}.decoder", issues)
    size = e.get("inputSize")
    if not _is_int(size) or size <= 0:
        issues.append(f"{path}.inputSize: expected a positive integer")
    shape = e.get("embeddingShape")
    if not isinstance(shape, list) or len(shape) < 1:
        issues.append(f"{path}.embeddingShape: expected a non-empty array")
    else:
        for i, d in enumerate(shape):
            if not _is_int(d) or d <= 0:
                issues.append(f"{path}.embeddingShape.{i}: expected a positive integer")
    if e.get("normalization") != "minmax01":
        issues.append(f'{path}.normalization: expected "minmax01"')
    version = e.get("version")
    if not isinstance(version, str) or len(version) < 1:
        issues.append(f"{path}.version: expected a non-empty string")
    for key in ("stage", "subset"):
        if key in e and not isinstance(e[key], str):
            issues.append(f"{path}.{key}: expected string")
    if "smallObjectZoom" in e:
        zoom = e["smallObjectZoom"]
        if not isinstance(zoom, dict):
            issues.append(f"{path}.smallObjectZoom: expected object")
        else:
            if not _is_number(zoom.get("belowFramePx")) or zoom.get("belowFramePx") <= 0:
                issues.append(f"{path}.smallObjectZoom.belowFramePx: expected a positive number")
            if not _is_number(zoom.get("contextFactor")) or zoom.get("contextFactor") < 2:
                issues.append(f"{path}.smallObjectZoom.contextFactor: expected a number >= 2")
            if not _is_int(zoom.get("minTilePx")) or zoom.get("minTilePx") <= 0:
                issues.append(f"{path}.smallObjectZoom.minTilePx: expected a positive integer")
    if "maskLogitOffset" in e and (not _is_number(e["maskLogitOffset"]) or abs(e["maskLogitOffset"]) > MAX_MASK_LOGIT_OFFSET):
        issues.append(f"{path}.maskLogitOffset: expected a finite number in [-{MAX_MASK_LOGIT_OFFSET:g}, {MAX_MASK_LOGIT_OFFSET:g}]")
    if "edgeRefinement" in e:
        edges = e["edgeRefinement"]
        if not isinstance(edges, dict):
            issues.append(f"{path}.edgeRefinement: expected object")
        else:
            radius, eps = edges.get("radius"), edges.get("eps")
            if not _is_number(radius) or not 0 < radius <= MAX_EDGE_RADIUS:
                issues.append(f"{path}.edgeRefinement.radius: expected a number in (0, {MAX_EDGE_RADIUS:g}]")
            if not _is_number(eps) or not 0 < eps <= 1:
                issues.append(f"{path}.edgeRefinement.eps: expected a number in (0, 1]")
            for key in sorted(set(edges) - {"radius", "eps"}):
                issues.append(f"{path}.edgeRefinement.{key}: unknown key")
    if "testTimeMirroring" in e and e["testTimeMirroring"] not in TEST_TIME_MIRRORINGS:
        issues.append(f'{path}.testTimeMirroring: expected one of {", ".join(TEST_TIME_MIRRORINGS)}')
    if "metrics" in e:
        metrics = e["metrics"]
        if not isinstance(metrics, dict):
            issues.append(f"{path}.metrics: expected object")
        else:
            for k, v in metrics.items():
                if not _is_number(v):
                    issues.append(f"{path}.metrics.{k}: expected a finite number")


def validate_manifest(value: Any) -> dict:
    """Return the manifest with defaults filled in; raise ManifestError listing every problem."""
    issues: list[str] = []
    if not isinstance(value, dict):
        raise ManifestError(["(root): expected object"])
    if value.get("format") != MANIFEST_FORMAT:
        issues.append(f'format: expected "{MANIFEST_FORMAT}"')
    if not (_is_int(value.get("version")) and value.get("version") == MANIFEST_VERSION):
        issues.append(f"version: expected {MANIFEST_VERSION}")
    experts = value.get("experts")
    if not isinstance(experts, list):
        issues.append("experts: expected array")
        experts = []
    elif len(experts) < 1:
        issues.append("experts: expected at least 1 expert")
    for i, e in enumerate(experts):
        _check_expert(e, f"experts.{i}", issues)
    fallback = value.get("fallback")
    if not isinstance(fallback, str):
        issues.append("fallback: expected string")
    routing = value.get("routing", {"filenameRules": [], "metadataModalities": {}})
    rules: list = []
    header_rules: list = []
    if not isinstance(routing, dict):
        issues.append("routing: expected object")
        routing = {}
    else:
        rules = _check_rules(routing.get("filenameRules", []), "routing.filenameRules", issues)
        meta = routing.get("metadataModalities", {})
        if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
            issues.append("routing.metadataModalities: expected an object of strings")
        header_rules = _check_rules(
            routing.get("niftiHeaderRules", DEFAULT_NIFTI_HEADER_RULES), "routing.niftiHeaderRules", issues
        )
        for i, r in enumerate(header_rules):
            p = f"routing.niftiHeaderRules.{i}"
            if isinstance(r, dict) and "fields" in r:
                fields = r["fields"]
                if not isinstance(fields, list) or len(fields) < 1:
                    issues.append(f"{p}.fields: expected a non-empty array")
                else:
                    for j, f in enumerate(fields):
                        if f not in NIFTI_TEXT_FIELDS:
                            issues.append(f"{p}.fields.{j}: expected one of {', '.join(NIFTI_TEXT_FIELDS)}")
        for key in ("selector", "subsets"):
            if key in routing:
                _check_relative_file(routing[key], f"routing.{key}", issues)
    if "createdBy" in value and not isinstance(value["createdBy"], str):
        issues.append("createdBy: expected string")
    if issues:
        raise ManifestError(issues)
    # cross-field checks (zod superRefine runs only when the shape parsed)
    names: set[str] = set()
    for e in experts:
        if e["name"] in names:
            issues.append(f'(root): duplicate expert name "{e["name"]}"')
        names.add(e["name"])
    if fallback not in names:
        issues.append(f'(root): fallback "{fallback}" is not one of the experts')
    for kind, checked in (("filename", rules), ("NIfTI header", header_rules)):
        for r in checked:
            try:
                re.compile(r["pattern"], re.IGNORECASE)
            except re.error:
                issues.append(f"(root): {kind} rule pattern is not a valid regex: {r['pattern']}")
    if issues:
        raise ManifestError(issues)
    out = dict(value)
    out["routing"] = {
        "filenameRules": list(rules),
        "metadataModalities": dict(routing.get("metadataModalities", {})),
        "niftiHeaderRules": [dict(r) for r in header_rules],
        **{key: routing[key] for key in ("selector", "subsets") if key in routing},
    }
    return out


def load_manifest(path: str) -> dict:
    try:
        with open(path, "r", encoding="utf-8") as f:
            value = json.load(f)
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: cannot read manifest JSON: {exc}") from exc
    try:
        return validate_manifest(value)
    except ManifestError as exc:
        raise ValueError(f"{path}: {exc}") from exc
