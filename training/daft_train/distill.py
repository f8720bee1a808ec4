"""Stage 1: the teacher (trained from scratch, or adopted from --init-checkpoint) and its distillation into the
student: MSE between embeddings, only the student's image encoder trains; the student starts with a copy of
the teacher's prompt encoder and mask decoder (same embedding shape)."""

from __future__ import annotations

import os

from .export.onnx_import import FOLDED
from .pipeline import STAGE_DISTILL, STAGE_GENERAL, STAGE_TEACHER, Pipeline, load_checkpoint_object, state_dict_of
from .trainer import StageResult, read_done, save_atomic, write_json_atomic


def adopt_init_checkpoint(p: Pipeline) -> bool:
    """--init-checkpoint: a teacher-shaped checkpoint replaces teacher training; a student-shaped one replaces
    teacher training and distillation; one recovered from a shipped expert's ONNX files (``import-onnx``, BatchNorm
    folded) becomes ``p.imported_stage``: the general stage, so that only DAFT trains, with BatchNorm statistics
    frozen, or the distill stage that the general fine-tuning continues (continuation.py). Returns True when it
    was used."""
    if not p.init_checkpoint:
        return False
    checkpoint = load_checkpoint_object(p.init_checkpoint, trusted=False)
    state = state_dict_of(checkpoint, p.init_checkpoint)
    source = os.path.abspath(p.init_checkpoint)
    folded = isinstance(checkpoint, dict) and checkpoint.get("norm_stats") == FOLDED
    candidates = (("student", p.imported_stage),) if folded else (("teacher", STAGE_TEACHER), ("student", STAGE_DISTILL))
    for kind, stage in candidates:
        model = p.build(kind)
        try:
            model.load_state_dict(state)
        except RuntimeError:
            continue
        out = p.stage_dir(stage)
        adopted_before = read_done(out) is not None  # run_teacher and run_distill both ask; say it once
        if not adopted_before and p.runtime.is_main:
            os.makedirs(out, exist_ok=True)
            best = os.path.join(out, "best.pt")
            save_atomic({"model": model.state_dict(), "stage": stage, "epoch": 0, "val_loss": float("nan"), "val_dsc": None,
                         "encoder": kind, "init_checkpoint": source, "norm_stats": FOLDED if folded else "trained"}, best)
            done = {"name": stage, "best_epoch": 0, "best_val_loss": float("nan"), "best_val_dsc": None, "epochs_run": 0,
                    "stopped": f"from --init-checkpoint {source}", "best_checkpoint": best, "minutes": 0.0}
            if folded:
                done["norm_stats"] = FOLDED
            write_json_atomic(done, os.path.join(out, "done.json"))
        p.runtime.barrier()
        if not adopted_before:
            p.log(f"--init-checkpoint {p.init_checkpoint}: used as the {kind} ({stage} stage)")
        return True
    shapes = "student" if folded else "teacher or student"
    raise ValueError(f"{p.init_checkpoint}: checkpoint does not match the {p.cfg.name} {shapes} architecture")


def train_teacher(p: Pipeline) -> StageResult | None:
    if adopt_init_checkpoint(p):
        return read_done(p.stage_dir(STAGE_TEACHER))
    model = p.build("teacher")
    p.freeze(model)
    return p.train(STAGE_TEACHER, p.stage_dir(STAGE_TEACHER), model, p.cfg.train.teacher, kind="teacher")


def distill_student(p: Pipeline) -> StageResult | None:
    adopt_init_checkpoint(p)
    if read_done(p.stage_dir(STAGE_DISTILL)) is not None:
        return p.skip_finished(STAGE_DISTILL)
    if read_done(p.stage_dir(STAGE_GENERAL)) is not None:
        p.log(f"[{STAGE_DISTILL}] not needed: the general stage is already there")
        return None
    teacher = p.load_stage_model(STAGE_TEACHER)
    student = p.build("student")
    if list(student.embedding_shape()) != list(teacher.embedding_shape()):
        raise ValueError("teacher and student embedding shapes differ; fix model.teacher / model.student embed_dim")
    student.prompt_encoder.load_state_dict(teacher.prompt_encoder.state_dict())
    student.mask_decoder.load_state_dict(teacher.mask_decoder.state_dict())
    p.freeze(student, prompt=True, decoder=True)
    return p.train(STAGE_DISTILL, p.stage_dir(STAGE_DISTILL), student, p.cfg.train.distill, teacher=teacher)
