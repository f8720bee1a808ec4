"""Box prompt encoder as in SAM: two corner tokens = random Fourier positional encoding + learned corner
embeddings, plus the dense positional encoding of the image token grid."""

from __future__ import annotations

import math

import torch
import torch.nn as nn


class PositionEmbeddingRandom(nn.Module):
    """Random Fourier features of points in [0, 1]^2 (x, y): [sin(2π·(2p-1)G), cos(2π·(2p-1)G)]."""

    def __init__(self, dim: int, scale: float = 1.0, seed: int = 1234):
        super().__init__()
        if dim % 2:
            raise ValueError("positional encoding dim must be even")
        gen = torch.Generator().manual_seed(seed)
        self.register_buffer("gaussian", scale * torch.randn((2, dim // 2), generator=gen))

    def encode(self, coords: torch.Tensor) -> torch.Tensor:
        """coords [..., 2] in [0, 1] → [..., dim], in float32 also under CUDA autocast: in bfloat16 the phases
        (up to ~±20 rad) would carry errors of ~0.06 rad, the size of a one-pixel box shift, and training would
        see other encodings than the float32 ONNX model at inference."""
        if coords.is_cuda:
            with torch.autocast(device_type="cuda", enabled=False):
                return self._fourier(coords.float())
        return self._fourier(coords)

    def _fourier(self, coords: torch.Tensor) -> torch.Tensor:
        projected = (2.0 * coords - 1.0) @ self.gaussian * (2.0 * math.pi)
        return torch.cat([torch.sin(projected), torch.cos(projected)], dim=-1)

    def dense(self, height: int, width: int) -> torch.Tensor:
        """[height * width, dim] encoding of the cell centres of a height x width grid (row-major)."""
        device = self.gaussian.device
        ys = (torch.arange(height, device=device, dtype=torch.float32) + 0.5) / height
        xs = (torch.arange(width, device=device, dtype=torch.float32) + 0.5) / width
        grid = torch.stack(torch.meshgrid(ys, xs, indexing="ij")[::-1], dim=-1)  # (x, y)
        return self.encode(grid.reshape(-1, 2))


class PromptEncoder(nn.Module):
    def __init__(self, dim: int, input_size: int = 256):
        super().__init__()
        self.dim = dim
        self.input_size = input_size
        self.pe = PositionEmbeddingRandom(dim)
        self.corner_embed = nn.Embedding(2, dim)  # top-left, bottom-right
        self.no_mask_embed = nn.Embedding(1, dim)  # added to every image token (no mask prompt)

    def embed_boxes(self, boxes: torch.Tensor) -> torch.Tensor:
        """boxes [B, N, 4] (x0, y0, x1, y1, max inclusive, pixels of the input frame) → [B, N, 2, dim].
        Pixel centres: coordinate + 0.5, divided by the input size."""
        corners = (boxes.reshape(boxes.shape[0], boxes.shape[1], 2, 2) + 0.5) / self.input_size
        return self.pe.encode(corners) + self.corner_embed.weight

    def dense_pe(self, height: int, width: int) -> torch.Tensor:
        return self.pe.dense(height, width)
