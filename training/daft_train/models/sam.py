"""The full promptable model. Checkpoint state-dict layout: ``image_encoder.*`` (EfficientViT-style encoder),
``prompt_encoder.*`` (box → corner tokens, dense PE), ``mask_decoder.*`` (two-way transformer + heads)."""

from __future__ import annotations

import torch
import torch.nn as nn

from ..config import EncoderConfig, ModelConfig
from .image_encoder import ImageEncoder
from .mask_decoder import MaskDecoder
from .prompt_encoder import PromptEncoder


class DaftSam(nn.Module):
    def __init__(self, encoder_cfg: EncoderConfig, model_cfg: ModelConfig):
        super().__init__()
        self.input_size = model_cfg.input_size
        self.image_encoder = ImageEncoder(encoder_cfg)
        self.prompt_encoder = PromptEncoder(model_cfg.decoder.dim, model_cfg.input_size)
        self.mask_decoder = MaskDecoder(model_cfg.decoder, encoder_cfg.embed_dim, model_cfg.input_size)

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        return self.image_encoder(images)

    def decode(self, embedding: torch.Tensor, boxes: torch.Tensor):
        return self.mask_decoder(embedding, boxes, self.prompt_encoder)

    def forward(self, images: torch.Tensor, boxes: torch.Tensor):
        return self.decode(self.encode(images), boxes)

    def embedding_shape(self) -> list[int]:
        with torch.no_grad():
            was_training = self.training
            self.eval()
            x = torch.zeros(1, 3, self.input_size, self.input_size, device=next(self.parameters()).device)
            shape = list(self.image_encoder(x).shape[1:])
            self.train(was_training)
        return shape


class DecoderForExport(nn.Module):
    """ONNX decoder graph: (embedding, boxes) → (logits, iou); the prompt encoder is inside."""

    def __init__(self, model: DaftSam):
        super().__init__()
        self.prompt_encoder = model.prompt_encoder
        self.mask_decoder = model.mask_decoder

    def forward(self, embedding: torch.Tensor, boxes: torch.Tensor):
        return self.mask_decoder(embedding, boxes, self.prompt_encoder)


def build_student(cfg: ModelConfig) -> DaftSam:
    return DaftSam(cfg.student, cfg)


def build_teacher(cfg: ModelConfig) -> DaftSam:
    return DaftSam(cfg.teacher, cfg)


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
