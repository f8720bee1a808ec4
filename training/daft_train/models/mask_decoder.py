"""SAM-like mask decoder that decodes N boxes of one image in one pass.

Cheap per box:
- the two-way transformer runs on the embedding pooled to a coarse token grid (token_stride); in the first
  layer the image keys are shared by all boxes (broadcast [B, 1, L, D], never copied N times);
- the only per-box non-linear feature map lives on the embedding grid (64x64, ``low_dim`` channels): shared
  image features + the box's updated image tokens (bilinearly upsampled) + separable box-relative coordinate
  features, weighted by a per-box hypernetwork vector; detail at 128x128 comes from a feature map computed
  ONCE per image (transposed conv of the embedding), combined linearly by a second per-box hypernetwork
  vector (a matmul, no per-box copy). Logits are bilinearly upsampled to 256x256 inside the module.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..config import DecoderConfig
from .blocks import LayerNorm2d
from .prompt_encoder import PromptEncoder

class MLP(nn.Module):
    def __init__(self, cin: int, hidden: int, cout: int, layers: int):
        super().__init__()
        dims = [cin] + [hidden] * (layers - 1) + [cout]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = F.relu(x)
        return x


class Linear2d(nn.Linear):
    """nn.Linear applied through a 2-D view, so that ONNX gets one Gemm (bias fused) instead of MatMul + Add."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        y = F.linear(x.reshape(-1, shape[-1]), self.weight, self.bias)
        return y.reshape(shape[:-1] + (self.out_features,))


class Attention(nn.Module):
    """Multi-head attention over [B, n, L, D] tensors whose leading dims broadcast (n = 1 or N)."""

    def __init__(self, dim: int, heads: int, downsample: int = 1):
        super().__init__()
        inner = dim // downsample
        if inner % heads:
            raise ValueError(f"attention inner dim {inner} not divisible by {heads} heads")
        self.heads = heads
        self.head_dim = inner // heads
        self.q_proj = Linear2d(dim, inner)
        self.k_proj = Linear2d(dim, inner)
        self.v_proj = Linear2d(dim, inner)
        self.out_proj = Linear2d(inner, dim)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        b, n, length, _ = x.shape
        return x.reshape(b, n, length, self.heads, self.head_dim).transpose(2, 3)  # [B, n, h, L, dh]

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        q = self._split(self.q_proj(q))
        k = self._split(self.k_proj(k))
        v = self._split(self.v_proj(v))
        attn = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(self.head_dim)), dim=-1)
        out = torch.matmul(attn, v).transpose(2, 3)  # [B, n, Lq, h, dh]
        b, n, length = out.shape[0], out.shape[1], out.shape[2]
        return self.out_proj(out.reshape(b, n, length, self.heads * self.head_dim))


class TwoWayBlock(nn.Module):
    def __init__(self, dim: int, heads: int, mlp_dim: int, downsample: int, skip_first_pe: bool):
        super().__init__()
        self.self_attn = Attention(dim, heads)
        self.norm1 = nn.LayerNorm(dim)
        self.cross_token_to_image = Attention(dim, heads, downsample)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(Linear2d(dim, mlp_dim), nn.ReLU(), Linear2d(mlp_dim, dim))
        self.norm3 = nn.LayerNorm(dim)
        self.cross_image_to_token = Attention(dim, heads, downsample)
        self.norm4 = nn.LayerNorm(dim)
        self.skip_first_pe = skip_first_pe

    def forward(self, queries, keys, query_pe, key_pe):
        if self.skip_first_pe:
            queries = self.self_attn(queries, queries, queries)
        else:
            q = queries + query_pe
            queries = queries + self.self_attn(q, q, queries)
        queries = self.norm1(queries)
        q = queries + query_pe
        k = keys + key_pe
        queries = self.norm2(queries + self.cross_token_to_image(q, k, keys))
        queries = self.norm3(queries + self.mlp(queries))
        q = queries + query_pe
        keys = self.norm4(keys + self.cross_image_to_token(k, q, queries))
        return queries, keys


class TwoWayTransformer(nn.Module):
    def __init__(self, cfg: DecoderConfig):
        super().__init__()
        self.blocks = nn.ModuleList(
            TwoWayBlock(cfg.dim, cfg.heads, cfg.mlp_dim, cfg.attention_downsample, skip_first_pe=(i == 0))
            for i in range(cfg.depth)
        )
        self.final_attn = Attention(cfg.dim, cfg.heads, cfg.attention_downsample)
        self.norm_final = nn.LayerNorm(cfg.dim)

    def forward(self, tokens: torch.Tensor, keys: torch.Tensor, key_pe: torch.Tensor):
        """tokens [B, N, T, D]; keys [B, 1, L, D]; key_pe [1, 1, L, D] → (tokens [B, N, T, D], keys [B, N, L, D])."""
        queries = tokens
        for block in self.blocks:
            queries, keys = block(queries, keys, tokens, key_pe)
        q = queries + tokens
        queries = self.norm_final(queries + self.final_attn(q, keys + key_pe, keys))
        return queries, keys


def box_relative_features(boxes: torch.Tensor, height: int, width: int, input_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-box features of each column / row of a height x width grid over the input frame.

    For grid cell centres c (input pixels) and a box [a, b] (max inclusive → covers [a, b + 1)):
    u = (c - a) / (b + 1 - a); features (u - 0.5, 0.5 - |u - 0.5|, min(c - a, b + 1 - c) / 8).
    Returns x features [B, N, width, 3] and y features [B, N, height, 3].
    """
    out = []
    for size, lo, hi in ((width, boxes[..., 0], boxes[..., 2]), (height, boxes[..., 1], boxes[..., 3])):
        centres = (torch.arange(size, device=boxes.device, dtype=boxes.dtype) + 0.5) * (input_size / size)
        lo = lo.unsqueeze(-1)
        hi = hi.unsqueeze(-1) + 1.0
        u = (centres - lo) / torch.clamp(hi - lo, min=1.0)
        edge = torch.minimum(centres - lo, hi - centres) / 8.0
        out.append(torch.stack([u - 0.5, 0.5 - torch.abs(u - 0.5), edge], dim=-1))
    return out[0], out[1]


class MaskDecoder(nn.Module):
    def __init__(self, cfg: DecoderConfig, embed_dim: int, input_size: int = 256):
        super().__init__()
        self.cfg = cfg
        self.input_size = input_size
        d, cu, cl = cfg.dim, cfg.upscale_dim, cfg.low_dim
        self.token_pool = nn.Conv2d(embed_dim, d, kernel_size=cfg.token_stride, stride=cfg.token_stride)
        self.iou_token = nn.Embedding(1, d)
        self.mask_token = nn.Embedding(1, d)
        self.transformer = TwoWayTransformer(cfg)
        # shared, once per image: features at the embedding grid (64) and at twice that (128)
        self.shared_low = nn.Sequential(nn.Conv2d(embed_dim, cl, 1), LayerNorm2d(cl))
        self.shared_high = nn.Sequential(
            nn.Conv2d(embed_dim, 2 * cu, 1),
            LayerNorm2d(2 * cu),
            nn.GELU(),
            nn.ConvTranspose2d(2 * cu, cu, kernel_size=2, stride=2),
        )
        self.box_feature_proj = Linear2d(d, cl)
        self.rel_x = nn.Linear(3, cl, bias=False)
        self.rel_y = nn.Linear(3, cl)
        self.hyper_low = MLP(d, d, cl, 3)
        self.hyper_high = MLP(d, d, cu, 3)
        self.iou_head = MLP(d, cfg.iou_hidden, 1, 3)

    def forward(self, embedding: torch.Tensor, boxes: torch.Tensor, prompt_encoder: PromptEncoder):
        """embedding [B, C, h, w], boxes [B, N, 4] (input frame) → logits [B, N, S, S], iou [B, N] in [0, 1].

        mask_low  = hyper_low · relu(shared_low + up(box tokens) + box-relative features)   (per box, h x w)
        mask_high = up2(mask_low) + hyper_high · shared_high                                 (per box, 2h x 2w)
        logits    = bilinear resize of mask_high to S x S.
        """
        b = embedding.shape[0]
        n = boxes.shape[1]
        d = self.cfg.dim
        cu, cl = self.cfg.upscale_dim, self.cfg.low_dim
        sparse = prompt_encoder.embed_boxes(boxes)  # [B, N, 2, D]
        out_tokens = torch.cat([self.iou_token.weight, self.mask_token.weight], dim=0)  # [2, D]
        out_tokens = out_tokens.reshape(1, 1, 2, d).expand(b, n, 2, d)
        tokens = torch.cat([out_tokens, sparse], dim=2)  # [B, N, 4, D]

        src = self.token_pool(embedding) + prompt_encoder.no_mask_embed.weight.reshape(1, d, 1, 1)
        gh, gw = src.shape[-2], src.shape[-1]
        keys = src.flatten(2).transpose(1, 2).unsqueeze(1)  # [B, 1, L, D]
        key_pe = prompt_encoder.dense_pe(gh, gw).reshape(1, 1, gh * gw, d)
        hs, keys = self.transformer(tokens, keys, key_pe)
        mask_token = hs[:, :, 1]

        lh, lw = embedding.shape[-2], embedding.shape[-1]
        shared_low = self.shared_low(embedding).unsqueeze(1)  # [B, 1, Cu, h, w]
        per_box = self.box_feature_proj(keys).transpose(2, 3).reshape(-1, cl, gh, gw)
        per_box = F.interpolate(per_box, size=(lh, lw), mode="bilinear", align_corners=False).reshape(b, -1, cl, lh, lw)
        fx, fy = box_relative_features(boxes, lh, lw, self.input_size)
        rel = self.rel_x(fx).transpose(2, 3).unsqueeze(3) + self.rel_y(fy).transpose(2, 3).unsqueeze(4)
        features = F.relu(per_box + rel + shared_low)  # [B, N, Cu, h, w]
        mask_low = torch.matmul(self.hyper_low(mask_token).unsqueeze(2), features.reshape(b, -1, cl, lh * lw))
        mask_low = F.interpolate(mask_low.reshape(-1, 1, lh, lw), scale_factor=2.0, mode="bilinear", align_corners=False)

        shared_high = self.shared_high(embedding)  # [B, Cu, 2h, 2w]
        hh, hw = shared_high.shape[-2], shared_high.shape[-1]
        mask_high = torch.matmul(self.hyper_high(mask_token), shared_high.reshape(b, cu, hh * hw))  # [B, N, 2h*2w]
        masks = mask_low.reshape(b, -1, hh, hw) + mask_high.reshape(b, -1, hh, hw)
        logits = F.interpolate(masks, size=(self.input_size, self.input_size), mode="bilinear", align_corners=False)
        iou = torch.sigmoid(self.iou_head(hs[:, :, 0])).squeeze(-1)
        return logits, iou
