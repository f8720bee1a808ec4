"""Building blocks of the EfficientViT-style image encoder (MBConv, DSConv, ReLU linear attention)."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


class ConvNormAct(nn.Sequential):
    """Conv2d → BatchNorm2d → activation (hardswish by default, ``None`` for none)."""

    def __init__(self, cin: int, cout: int, kernel: int = 1, stride: int = 1, groups: int = 1, act: bool = True):
        super().__init__(
            nn.Conv2d(cin, cout, kernel, stride, padding=kernel // 2, groups=groups, bias=False),
            nn.BatchNorm2d(cout),
            nn.Hardswish() if act else nn.Identity(),
        )


class DSConv(nn.Module):
    """Depthwise 3x3 + pointwise 1x1 (residual when shapes allow)."""

    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.depthwise = ConvNormAct(cin, cin, 3, stride, groups=cin)
        self.pointwise = ConvNormAct(cin, cout, 1, act=False)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.pointwise(self.depthwise(x))
        return x + y if self.residual else y


class MBConv(nn.Module):
    """Inverted bottleneck: 1x1 expand → depthwise 3x3 (stride) → 1x1 project (residual when shapes allow)."""

    def __init__(self, cin: int, cout: int, stride: int = 1, expand: float = 4.0):
        super().__init__()
        hidden = int(round(cin * expand))
        self.expand = ConvNormAct(cin, hidden, 1)
        self.depthwise = ConvNormAct(hidden, hidden, 3, stride, groups=hidden)
        self.project = ConvNormAct(hidden, cout, 1, act=False)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.project(self.depthwise(self.expand(x)))
        return x + y if self.residual else y


class LiteMLA(nn.Module):
    """EfficientViT lightweight multi-scale linear attention with a ReLU kernel.

    qkv by a 1x1 conv, a second scale of qkv by 5x5 depthwise + grouped 1x1 aggregation, then per head
    out = (relu(q) (relu(k)^T v)) / (relu(q) relu(k)^T 1), computed in float32 (also under autocast).
    """

    def __init__(self, channels: int, head_dim: int = 16, scale: int = 5, eps: float = 1e-6):
        super().__init__()
        heads = max(1, channels // head_dim)
        total = heads * head_dim
        self.head_dim = head_dim
        self.eps = eps
        self.qkv = nn.Conv2d(channels, 3 * total, 1, bias=False)
        self.aggregate = nn.Sequential(
            nn.Conv2d(3 * total, 3 * total, scale, padding=scale // 2, groups=3 * total, bias=False),
            nn.Conv2d(3 * total, 3 * total, 1, groups=3 * heads, bias=False),
        )
        self.proj = ConvNormAct(2 * total, channels, 1, act=False)

    def linear_attention(self, qkv: torch.Tensor) -> torch.Tensor:
        b, _, h, w = qkv.shape
        qkv = qkv.float().reshape(b, -1, 3 * self.head_dim, h * w)
        q = F.relu(qkv[:, :, : self.head_dim])
        k = F.relu(qkv[:, :, self.head_dim : 2 * self.head_dim])
        v = qkv[:, :, 2 * self.head_dim :]
        kv = torch.matmul(v, k.transpose(-1, -2))  # [b, heads, d, d]
        numerator = torch.matmul(kv, q)  # [b, heads, d, hw]
        denominator = torch.matmul(k.sum(dim=-1, keepdim=True).transpose(-1, -2), q)  # [b, heads, 1, hw]
        out = numerator / (denominator + self.eps)
        return out.reshape(b, -1, h, w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        qkv = self.qkv(x)
        qkv = torch.cat([qkv, self.aggregate(qkv)], dim=1)
        if qkv.is_cuda:
            with torch.autocast(device_type="cuda", enabled=False):
                out = self.linear_attention(qkv)
        else:
            out = self.linear_attention(qkv)
        return self.proj(out.to(x.dtype))


class EfficientViTBlock(nn.Module):
    """Context (linear attention) + local (MBConv) modules, both residual."""

    def __init__(self, channels: int, head_dim: int = 16, expand: float = 4.0):
        super().__init__()
        self.context = LiteMLA(channels, head_dim)
        self.local = MBConv(channels, channels, 1, expand)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.context(x)
        return self.local(x)


class LayerNorm2d(nn.Module):
    """LayerNorm over channels of an NCHW tensor (as in SAM's neck)."""

    def __init__(self, channels: int, eps: float = 1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        u = x.mean(1, keepdim=True)
        s = (x - u).pow(2).mean(1, keepdim=True)
        x = (x - u) / torch.sqrt(s + self.eps)
        return self.weight[:, None, None] * x + self.bias[:, None, None]
