"""Training losses: BCE + Dice + MSE(predicted IoU, true IoU) per object (optionally + a boundary-band BCE); MSE on
embeddings for distillation."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def per_object_terms(logits: torch.Tensor, iou_pred: torch.Tensor, masks: torch.Tensor) -> dict[str, torch.Tensor]:
    """logits [B, K, H, W], iou_pred [B, K], masks bool [B, K, H, W] → per-object tensors [B, K]:
    bce, dice (loss), iou_mse, and the hard metrics dsc and iou of logits > 0."""
    logits = logits.float()
    target = masks.float()
    bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none").mean(dim=(-1, -2))
    prob = torch.sigmoid(logits)
    inter = (prob * target).sum(dim=(-1, -2))
    dice = 1.0 - (2.0 * inter + 1.0) / (prob.sum(dim=(-1, -2)) + target.sum(dim=(-1, -2)) + 1.0)
    with torch.no_grad():
        pred = logits > 0
        hard_inter = (pred & masks).sum(dim=(-1, -2)).float()
        pred_area = pred.sum(dim=(-1, -2)).float()
        true_area = target.sum(dim=(-1, -2))
        union = pred_area + true_area - hard_inter
        iou_true = torch.where(union > 0, hard_inter / union.clamp(min=1.0), torch.ones_like(union))
        denom = pred_area + true_area
        dsc = torch.where(denom > 0, 2.0 * hard_inter / denom.clamp(min=1.0), torch.ones_like(denom))
    iou_mse = (iou_pred.float() - iou_true) ** 2
    return {"bce": bce, "dice": dice, "iou_mse": iou_mse, "dsc": dsc, "iou": iou_true}


def boundary_band(masks: torch.Tensor, band_px: int) -> torch.Tensor:
    """Pixels within ``band_px`` (chessboard distance) of a mask's boundary, inside or outside: bool, shaped as
    ``masks`` [..., H, W]. The image's own edge is not a boundary (a mask touching it is not eroded from there)."""
    m = masks.float().reshape(-1, 1, *masks.shape[-2:])
    k = 2 * band_px + 1
    dilated = F.max_pool2d(m, k, stride=1, padding=band_px)
    eroded = 1.0 - F.max_pool2d(1.0 - m, k, stride=1, padding=band_px)
    return (dilated - eroded > 0.5).reshape(masks.shape)


def boundary_bce(logits: torch.Tensor, masks: torch.Tensor, band_px: int) -> torch.Tensor:
    """Per object [B, K]: BCE averaged over the pixels within ``band_px`` of the target's boundary (0 where the
    target has no boundary): the pixels whose side NSD judges, which the plain BCE averages with the whole image."""
    band = boundary_band(masks, band_px).float()
    bce = F.binary_cross_entropy_with_logits(logits.float(), masks.float(), reduction="none")
    return (bce * band).sum(dim=(-1, -2)) / band.sum(dim=(-1, -2)).clamp(min=1.0)


def segmentation_loss(
    logits, iou_pred, masks, valid, boundary_weight: float = 0.0, boundary_band_px: int = 2
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Mean over valid objects of BCE + Dice + MSE(IoU) (the paper's loss), plus ``boundary_weight`` × the
    boundary-band BCE when it is positive (TrainConfig.boundary_weight; 0, the default, is the paper's loss)."""
    terms = per_object_terms(logits, iou_pred, masks)
    weight = valid.float()
    count = weight.sum().clamp(min=1.0)
    per_object = terms["bce"] + terms["dice"] + terms["iou_mse"]
    if boundary_weight > 0:
        terms["boundary_bce"] = boundary_bce(logits, masks, boundary_band_px)
        per_object = per_object + boundary_weight * terms["boundary_bce"]
    loss = (per_object * weight).sum() / count
    return loss, terms


def distillation_loss(student_embedding: torch.Tensor, teacher_embedding: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(student_embedding.float(), teacher_embedding.float())
