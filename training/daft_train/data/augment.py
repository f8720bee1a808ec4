"""Training augmentations: box jitter, flips inside the unpadded region, gamma / contrast. Random decisions are drawn
on the host from a CPU ``torch.Generator`` (no device sync); the pixel work runs on the device, per image (zoomed
crops) or for a whole batch at once (``augment_pixels``: on a GPU a handful of kernels however many images,
where the per-image path launched dozens per image — batch assembly took 28.7 of a 72.8-ms training step on the
H200, GPU.md)."""

from __future__ import annotations

import math

import numpy as np
import torch

from .preprocess import INPUT_SIZE, NORMALIZE_EPS

def to_device(data, device: torch.device, dtype: torch.dtype | None = None) -> torch.Tensor:
    """Host data (list, array, CPU tensor) on ``device``. To a GPU through pinned memory without waiting: a plain
    copy from pageable memory synchronises the stream, so each one made the host wait until the device had finished
    everything queued (the previous training step) before it could assemble on — session 16's profile had 130 such
    copies per batch of 32."""
    t = torch.as_tensor(data, dtype=dtype)
    if device.type == "cuda":
        return t.pin_memory().to(device, non_blocking=True)
    return t.to(device)


GAMMA_RANGE = (0.7, 1.5)
CONTRAST_RANGE = (1.0, 1.5)


def jitter_boxes(boxes: torch.Tensor, max_px: int, max_y: float, max_x: float, generator) -> torch.Tensor:
    """Boxes in the 256 model frame: enlarge every side by a random integer 0..max_px model-frame pixels,
    clamped to the image (its last pixel's coordinate in the frame: max_x, max_y).

    In the frame, not in original pixels: the model only ever sees the frame, and inference prompts it with
    tight boxes (or the previous slice's mask box + 3 frame px). Jitter counted in original pixels grows with
    the zoom: on a 32 px crop around a nucleus (×8) or a 40 px hippocampus slice (×6), 5 original px are 30–40
    frame px, so the model learned that objects fill only part of their box and under-segmented tight boxes
    (nuclei under 8 px: predicted area 0.48× the true one)."""
    device = boxes.device
    r = torch.randint(0, max_px + 1, tuple(boxes.shape), generator=generator).to(device=device, dtype=boxes.dtype)
    out = boxes + r * torch.tensor([-1.0, -1.0, 1.0, 1.0], device=device, dtype=boxes.dtype)
    limits = torch.tensor([max_x, max_y, max_x, max_y], device=device, dtype=boxes.dtype)
    return torch.minimum(torch.clamp(out, min=0.0), limits)


def draw_flips(generator) -> tuple[bool, bool]:
    """(horizontal, vertical), p = 0.5 each, drawn on the host."""
    fx, fy = (torch.rand(2, generator=generator) < 0.5).tolist()
    return bool(fx), bool(fy)


def flip_boxes(boxes: torch.Tensor, flips: tuple[bool, bool], orig_h: int, orig_w: int) -> torch.Tensor:
    """Boxes (256 frame) of an image flipped as ``flips`` says: flipped in original pixels, x' = (W - 1) - x."""
    scale = INPUT_SIZE / max(orig_h, orig_w)
    if flips[0]:
        edge = (orig_w - 1) * scale
        boxes = torch.stack([edge - boxes[:, 2], boxes[:, 1], edge - boxes[:, 0], boxes[:, 3]], dim=1)
    if flips[1]:
        edge = (orig_h - 1) * scale
        boxes = torch.stack([boxes[:, 0], edge - boxes[:, 3], boxes[:, 2], edge - boxes[:, 1]], dim=1)
    return boxes


def flip_region(tensor: torch.Tensor, flips: tuple[bool, bool], h: int, w: int) -> torch.Tensor:
    """[C, 256, 256] with its unpadded h x w region flipped as ``flips`` says (padding stays bottom/right), in place."""
    if flips[0]:
        tensor[:, :h, :w] = tensor[:, :h, :w].flip(-1)
    if flips[1]:
        tensor[:, :h, :w] = tensor[:, :h, :w].flip(-2)
    return tensor


def random_flips(img, boxes, masks, h: int, w: int, orig_h: int, orig_w: int, generator):
    """Horizontal / vertical flips (p = 0.5 each) of the unpadded h x w region of one image (padding stays
    bottom/right), its boxes and masks."""
    flips = draw_flips(generator)
    if any(flips):
        img, masks = flip_region(img.clone(), flips, h, w), flip_region(masks.clone(), flips, h, w)
    return img, flip_boxes(boxes, flips, orig_h, orig_w), masks


def augment_pixels(images: torch.Tensor, masks: torch.Tensor, flips: list[tuple[bool, bool]], heights: list[int],
                   widths: list[int], remaps: dict[int, tuple[float, float]], batched: bool | None = None):
    """Image i of [N, 3, 256, 256] images and [N, K, 256, 256] masks: its unpadded heights[i] x widths[i] region
    flipped as flips[i] says (padding stays bottom/right), then, for i in ``remaps``, the (gamma, contrast) remap of
    :func:`random_intensity`. ``batched`` (default: on a GPU) does it for all images in a few kernels — one gather
    through per-image row / column indices, one remap — where one image at a time launches dozens per image; on the
    CPU that gather is slow (62 ms for 32 images x 8 masks) and each image is done in place."""
    if batched is None:
        batched = images.device.type != "cpu"
    if not batched:
        for i, (flip, h, w) in enumerate(zip(flips, heights, widths)):
            flip_region(images[i], flip, h, w)
            flip_region(masks[i], flip, h, w)
            if i in remaps:
                images[i] = apply_intensity(images[i], h, w, *remaps[i])
        return images, masks
    if any(fx or fy for fx, fy in flips):
        n = len(flips)
        rows = np.tile(np.arange(INPUT_SIZE, dtype=np.int64), (n, 1))
        cols = rows.copy()
        for i, ((fx, fy), h, w) in enumerate(zip(flips, heights, widths)):
            if fx:
                cols[i, :w] = np.arange(w - 1, -1, -1)
            if fy:
                rows[i, :h] = np.arange(h - 1, -1, -1)
        rows_t, cols_t = (to_device(a, images.device) for a in (rows, cols))
        b = torch.arange(n, device=images.device)[:, None, None, None]

        def gather(t: torch.Tensor) -> torch.Tensor:
            ch = torch.arange(t.shape[1], device=t.device)[None, :, None, None]
            return t[b, ch, rows_t[:, None, :, None], cols_t[:, None, None, :]]

        images, masks = gather(images), gather(masks)
    if remaps:
        at = sorted(remaps)
        sel = to_device(at, images.device, torch.int64)
        remapped = intensity_batch(images.index_select(0, sel), [heights[i] for i in at], [widths[i] for i in at],
                                   [remaps[i] for i in at])
        images = images.index_copy(0, sel, remapped)
    return images, masks


def draw_intensity(generator, probability: float) -> tuple[float, float] | None:
    """(gamma, contrast) with ``probability``, else None; gamma log-uniform in GAMMA_RANGE, contrast uniform in
    CONTRAST_RANGE."""
    if float(torch.rand((), generator=generator)) >= probability:
        return None
    u_gamma, u_contrast = torch.rand(2, generator=generator).tolist()
    lo, hi = GAMMA_RANGE
    gamma = math.exp(math.log(lo) + u_gamma * (math.log(hi) - math.log(lo)))
    return gamma, CONTRAST_RANGE[0] + u_contrast * (CONTRAST_RANGE[1] - CONTRAST_RANGE[0])


def random_intensity(img: torch.Tensor, h: int, w: int, generator, probability: float) -> torch.Tensor:
    """With ``probability``: nnU-Net-style intensity augmentation of the unpadded h x w region of a [3, 256, 256]
    image in [0, 1], the same for all channels: gamma (log-uniform in GAMMA_RANGE), then contrast around the mean
    (uniform in CONTRAST_RANGE) clipped to [0, 1] (a narrower window: what saturates stays saturated), then min-max
    to [0, 1] again as the engine's preprocessing does (which is why contrast below 1 would be a no-op)."""
    drawn = draw_intensity(generator, probability)
    return img if drawn is None else apply_intensity(img, h, w, *drawn)


def apply_intensity(img: torch.Tensor, h: int, w: int, gamma: float, contrast: float) -> torch.Tensor:
    """:func:`random_intensity`'s remap with drawn parameters, of one image (a new tensor)."""
    region = img[:, :h, :w].clamp(min=0.0) ** gamma
    mean = region.mean()
    region = ((region - mean) * contrast + mean).clamp(0.0, 1.0)
    region = region - region.min()
    region = region / region.max().clamp(min=NORMALIZE_EPS)
    out = img.clone()
    out[:, :h, :w] = region
    return out


def intensity_batch(images: torch.Tensor, heights: list[int], widths: list[int], params: list[tuple[float, float]]) -> torch.Tensor:
    """:func:`random_intensity`'s remap with drawn (gamma, contrast) per image, for [N, 3, 256, 256] at once."""
    device = images.device
    n = images.shape[0]
    h = to_device(heights, device, torch.int64)[:, None, None, None]
    w = to_device(widths, device, torch.int64)[:, None, None, None]
    ys = torch.arange(INPUT_SIZE, device=device)[None, None, :, None]
    xs = torch.arange(INPUT_SIZE, device=device)[None, None, None, :]
    region = (ys < h) & (xs < w)  # [N, 1, 256, 256]
    gamma, contrast = (to_device(v, device, images.dtype).view(n, 1, 1, 1) for v in zip(*params))
    out = images.clamp(min=0.0) ** gamma
    count = (h * w * images.shape[1]).to(images.dtype).view(n, 1, 1, 1)
    mean = (out * region).sum(dim=(1, 2, 3), keepdim=True) / count
    out = ((out - mean) * contrast + mean).clamp(0.0, 1.0)
    out = out - torch.where(region, out, torch.full_like(out, math.inf)).amin(dim=(1, 2, 3), keepdim=True)
    out = out / torch.where(region, out, torch.zeros_like(out)).amax(dim=(1, 2, 3), keepdim=True).clamp(min=NORMALIZE_EPS)
    return torch.where(region, out, images)
