"""Training losses: BCE + Dice + MSE(predicted IoU, true IoU) per object; MSE on embeddings for distillation."""

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


def segmentation_loss(logits, iou_pred, masks, valid) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Mean over valid objects of BCE + Dice + MSE(IoU)."""
    terms = per_object_terms(logits, iou_pred, masks)
    weight = valid.float()
    count = weight.sum().clamp(min=1.0)
    per_object = terms["bce"] + terms["dice"] + terms["iou_mse"]
    loss = (per_object * weight).sum() / count
    return loss, terms


def distillation_loss(student_embedding: torch.Tensor, teacher_embedding: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(student_embedding.float(), teacher_embedding.float())
