"""Image preprocessing shared bit-for-bit (up to float rounding) with the TypeScript engine.

Contract (see training/README.md, "Preprocessing"):

1. The image is (H, W) grey or (H, W, 3) RGB (an (H, W, 1) array is treated as grey), converted to float64,
   minus its own minimum over all pixels and channels (a no-op after step 3 except that it keeps a constant
   image exactly zero: the filter rows sum to 1 only up to rounding, which the 1e-8 floor would amplify).
2. Resize so the longest side is 256: new size (h, w) = (int(H*256/max(H,W) + 0.5), int(W*256/max(H,W) + 0.5)),
   each at least 1, with AREA resampling defined as an exact box filter, separable in y and x:
   output pixel i (of n) covers the source interval [i*m/n, (i+1)*m/n) of a side of m pixels; source pixel j
   covers [j, j+1); its weight is the overlap length divided by m/n. Interval ends are computed as (i*m)/n
   (integer product, then one division) so that boundaries that are whole numbers are exact.
   This equals OpenCV INTER_AREA both when shrinking and when enlarging. No rounding to uint8.
3. Min-max normalise over the resized, unpadded image, all channels together: (x - min) / max(max - min, 1e-8).
4. Zero-pad bottom/right to 256 x 256; grey becomes 3 identical channels; layout [3, 256, 256] float32.

Boxes (x0, y0, x1, y1, max corner inclusive) are scaled by 256 / max(H, W).
Masks at 256 (training targets, 3D propagation): area-resize the mask as float with the same sizes (each pixel's
coverage), then binarise with a target rule (:data:`TARGET_RULES`; "any": coverage > 0, the default and what the
engine's 3D walk uses for its next box), then zero-pad.

3D volumes become uint8 with :func:`volume_to_uint8` before their slices are preprocessed like 2D images.
"""

from __future__ import annotations

import numpy as np

INPUT_SIZE = 256
NORMALIZE_EPS = 1e-8


def resized_size(height: int, width: int, target: int = INPUT_SIZE) -> tuple[int, int]:
    """(h, w) after scaling the longest side to ``target``; each side at least 1."""
    if height <= 0 or width <= 0:
        raise ValueError(f"image size must be positive, got {height}x{width}")
    longest = max(height, width)
    new_h = int(height * target / longest + 0.5)
    new_w = int(width * target / longest + 0.5)
    return max(1, new_h), max(1, new_w)


def area_weights(src: int, dst: int) -> np.ndarray:
    """[dst, src] float64 matrix of the exact box filter from ``src`` pixels to ``dst`` pixels (rows sum to 1)."""
    if src <= 0 or dst <= 0:
        raise ValueError(f"sizes must be positive, got src={src} dst={dst}")
    i = np.arange(dst, dtype=np.float64)[:, None]
    j = np.arange(src, dtype=np.float64)[None, :]
    start = (i * src) / dst
    end = ((i + 1) * src) / dst
    overlap = np.minimum(end, j + 1.0) - np.maximum(start, j)
    overlap = np.clip(overlap, 0.0, None)
    return overlap * dst / src


def area_resize(array: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """Exact box-filter resize of (H, W) or (H, W, C) to (out_h, out_w[, C]) in float64."""
    x = np.asarray(array, dtype=np.float64)
    wy = area_weights(x.shape[0], out_h)
    wx = area_weights(x.shape[1], out_w)
    if x.ndim == 2:
        return wy @ x @ wx.T
    if x.ndim == 3:
        tmp = np.einsum("ij,jkc->ikc", wy, x)
        return np.einsum("lk,ikc->ilc", wx, tmp)
    raise ValueError(f"expected a 2D or 3D array, got shape {x.shape}")


def _as_hwc(image: np.ndarray) -> np.ndarray:
    img = np.asarray(image)
    if img.ndim == 2:
        return img[:, :, None]
    if img.ndim == 3 and img.shape[2] in (1, 3):
        return img
    raise ValueError(f"expected an image of shape (H, W), (H, W, 1) or (H, W, 3), got {img.shape}")


def resize_normalized(image: np.ndarray, target: int = INPUT_SIZE) -> np.ndarray:
    """Resized (longest side ``target``), min-max normalised, unpadded (h, w, C) float64 image (C = 1 or 3)."""
    img = _as_hwc(image).astype(np.float64)
    h, w = resized_size(img.shape[0], img.shape[1], target)
    # Shift by the source minimum first: mathematically a no-op after min-max, but it makes a constant image
    # resize to exact zeros (the filter rows sum to 1 only up to rounding, which 1e-8 would amplify).
    resized = area_resize(img - img.min(), h, w)
    lo = resized.min()
    hi = resized.max()
    return (resized - lo) / max(hi - lo, NORMALIZE_EPS)


def preprocess_image(image: np.ndarray, target: int = INPUT_SIZE) -> np.ndarray:
    """The model input for one image: float32 [3, target, target]."""
    norm = resize_normalized(image, target)
    h, w, c = norm.shape
    out = np.zeros((3, target, target), dtype=np.float32)
    chw = np.transpose(norm, (2, 0, 1)).astype(np.float32)
    out[:, :h, :w] = chw if c == 3 else np.repeat(chw, 3, axis=0)
    return out


def box_scale(height: int, width: int, target: int = INPUT_SIZE) -> float:
    """Factor from original pixel coordinates to the ``target`` frame."""
    return target / max(height, width)


def scale_boxes(boxes: np.ndarray, height: int, width: int, target: int = INPUT_SIZE) -> np.ndarray:
    """Boxes [..., 4] (x0, y0, x1, y1) in original pixels → the ``target`` frame, float32."""
    return (np.asarray(boxes, dtype=np.float64) * box_scale(height, width, target)).astype(np.float32)


# How a training target is cut from an object's area coverage at 256 (0..1 per pixel):
#   any  coverage > 0: every pixel the object touches (a frame pixel half outside the object counts as inside);
#   half coverage >= 0.5: the pixels at least half inside, which the engine's bilinear upsampling of logits
#        thresholded at 0 maps back closest to the true outline; where no pixel is half inside (an object under one
#        frame pixel wide), the most-covered pixels instead, so that no object loses its target.
TARGET_RULES = ("any", "half")
HALF_COVERAGE = 0.5 - 1e-9  # coverage sums of exact halves may round a hair below 0.5


def coverage_to_target(coverage: np.ndarray, rule: str = "any") -> np.ndarray:
    """Area coverage (any shape, values in [0, 1]) → bool target by ``rule`` (see :data:`TARGET_RULES`)."""
    if rule == "any":
        return coverage > 0
    if rule != "half":
        raise ValueError(f"unknown target rule {rule!r} (expected one of {', '.join(TARGET_RULES)})")
    out = coverage >= HALF_COVERAGE
    if not out.any() and coverage.size and coverage.max() > 0:
        out = coverage >= coverage.max() - 1e-9
    return out


def mask_to_target(mask: np.ndarray, target: int = INPUT_SIZE, rule: str = "any") -> np.ndarray:
    """Binary (H, W) mask → bool [target, target]: area-resized mask binarised by ``rule``, zero-padded."""
    m = np.asarray(mask)
    if m.ndim != 2:
        raise ValueError(f"expected a 2D mask, got shape {m.shape}")
    h, w = resized_size(m.shape[0], m.shape[1], target)
    resized = coverage_to_target(area_resize((m > 0).astype(np.float64), h, w), rule)
    out = np.zeros((target, target), dtype=bool)
    out[:h, :w] = resized
    return out


def uint8_from_normalized(norm: np.ndarray) -> np.ndarray:
    """Store a [0, 1] normalised image compactly as uint8 (round half up) — used only by the training cache."""
    return np.floor(np.clip(norm, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def volume_to_uint8(volume: np.ndarray) -> np.ndarray:
    """3D intensities → uint8: clip to the 0.5 / 99.5 percentiles (numpy 'linear') of the whole volume, scale to
    0..255 and round half up. A volume whose percentiles coincide becomes all zeros."""
    v = np.asarray(volume, dtype=np.float64)
    lo, hi = np.percentile(v, [0.5, 99.5])
    if not hi > lo:
        return np.zeros(v.shape, dtype=np.uint8)
    scaled = (np.clip(v, lo, hi) - lo) / (hi - lo) * 255.0
    return np.floor(scaled + 0.5).astype(np.uint8)
