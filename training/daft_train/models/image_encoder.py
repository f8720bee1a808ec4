"""EfficientViT-style image encoder: 256x256 image → [embed_dim, 64, 64] embedding (stride 4)."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..config import EncoderConfig
from .blocks import ConvNormAct, DSConv, EfficientViTBlock, LayerNorm2d, MBConv


class ImageEncoder(nn.Module):
    """Stem (stride 2, DSConv blocks) → MBConv stages at strides 4 and 8 → EfficientViT (linear attention)
    stages at strides 16 and 32 → neck: stages 2-4 projected to ``neck_width``, summed at stride 8, refined by
    MBConvs, upsampled to stride 4 and added to stage 1, one DSConv, 1x1 to ``embed_dim`` and LayerNorm2d."""

    def __init__(self, cfg: EncoderConfig):
        super().__init__()
        if len(cfg.widths) != 5 or len(cfg.depths) != 5:
            raise ValueError("encoder widths and depths need 5 entries (stem + 4 stages)")
        w, d = cfg.widths, cfg.depths
        self.embed_dim = cfg.embed_dim
        self.stem = nn.Sequential(ConvNormAct(3, w[0], 3, 2), *[DSConv(w[0], w[0]) for _ in range(d[0])])
        self.stage1 = self._mb_stage(w[0], w[1], d[1], cfg.expand)
        self.stage2 = self._mb_stage(w[1], w[2], d[2], cfg.expand)
        self.stage3 = nn.Sequential(
            MBConv(w[2], w[3], 2, cfg.expand), *[EfficientViTBlock(w[3], cfg.head_dim, cfg.expand) for _ in range(d[3])]
        )
        self.stage4 = nn.Sequential(
            MBConv(w[3], w[4], 2, cfg.expand), *[EfficientViTBlock(w[4], cfg.head_dim, cfg.expand) for _ in range(d[4])]
        )
        n = cfg.neck_width
        self.lateral2 = ConvNormAct(w[2], n, 1, act=False)
        self.lateral3 = ConvNormAct(w[3], n, 1, act=False)
        self.lateral4 = ConvNormAct(w[4], n, 1, act=False)
        self.fuse8 = nn.Sequential(*[MBConv(n, n, 1, cfg.expand / 2) for _ in range(cfg.neck_depth)])
        self.lateral1 = ConvNormAct(w[1], n, 1, act=False)
        self.fuse4 = DSConv(n, n)
        self.out = nn.Conv2d(n, cfg.embed_dim, 1)
        self.out_norm = LayerNorm2d(cfg.embed_dim)

    @staticmethod
    def _mb_stage(cin: int, cout: int, depth: int, expand: float) -> nn.Sequential:
        return nn.Sequential(MBConv(cin, cout, 2, expand), *[MBConv(cout, cout, 1, expand) for _ in range(depth - 1)])

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        x0 = self.stem(image)
        x1 = self.stage1(x0)
        x2 = self.stage2(x1)
        x3 = self.stage3(x2)
        x4 = self.stage4(x3)
        size8 = x2.shape[-2:]
        f = self.lateral2(x2)
        f = f + F.interpolate(self.lateral3(x3), size=size8, mode="bilinear", align_corners=False)
        f = f + F.interpolate(self.lateral4(x4), size=size8, mode="bilinear", align_corners=False)
        f = self.fuse8(f)
        f = F.interpolate(f, size=x1.shape[-2:], mode="bilinear", align_corners=False) + self.lateral1(x1)
        f = self.fuse4(f)
        return self.out_norm(self.out(f))
