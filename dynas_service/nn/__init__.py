"""dynas_service.nn: dynamic auto-sizing networks in pure PyTorch.

Dense and conv layers that grow and prune units during training under a weighted-l1
penalty (method.md 4.1-4.3), model builders for the thesis' mlp and cnn, one-epoch
training/evaluation, checkpoints that carry changing layer sizes, and export to plain
static PyTorch models.

Typical use (X/y torch tensors on the model's device; y int64 labels or float targets)::

    spec = default_spec("cnn", (1, 8, 8), n_outputs=10, task="classification",
                        hidden_layers=5, initial_units=20)          # or .with_hidden_sizes(...)
    mean, std = input_statistics(X_train)
    model = build_model(spec, input_mean=mean, input_std=std,     # regression: also
                        generator=torch.Generator().manual_seed(0))  # target_mean/target_std
    opt = make_optimizer(model, lr=4e-4)
    result = fit_epoch(model, opt, X_train, y_train, X_val, y_val, batch_size=32,
                       reg_strength=2e-5, regularizer="weighted_l1", dynamic=True,
                       settings=DynamicSettings(), generator=torch.Generator().manual_seed(1))
    save_checkpoint(ckpt_dir, model, opt, {"epoch": 1})
    model, opt, extra = load_checkpoint(ckpt_dir, device="cpu")
    save_model_zip(model, "model.safetensors.zip"); predict(load_model("model.safetensors.zip"), X)
"""

from dynas_service.nn.builders import (
    build_model,
    default_device,
    input_statistics,
    make_optimizer,
    set_learning_rate,
    target_statistics,
)
from dynas_service.nn.checkpoint import load_checkpoint, load_checkpoint_model, save_checkpoint
from dynas_service.nn.export import (
    Standardize,
    StaticNet,
    export_static,
    save_onnx,
    save_torchscript,
)
from dynas_service.nn.layers import DynamicConv2d, DynamicLayer, DynamicLinear
from dynas_service.nn.model import DynamicNet
from dynas_service.nn.model_zip import load_model, read_architecture, save_model_zip
from dynas_service.nn.predict import Prediction, predict
from dynas_service.nn.regularizers import REGULARIZERS, PenaltyGradient, penalty
from dynas_service.nn.spec import ArchitectureSpec, DynamicSettings, default_spec
from dynas_service.nn.surgery import grow, prune
from dynas_service.nn.training import EpochResult, evaluate, fit_epoch, train_epoch

__all__ = [
    "REGULARIZERS",
    "ArchitectureSpec",
    "DynamicConv2d",
    "DynamicLayer",
    "DynamicLinear",
    "DynamicNet",
    "DynamicSettings",
    "EpochResult",
    "PenaltyGradient",
    "Prediction",
    "Standardize",
    "StaticNet",
    "build_model",
    "default_device",
    "default_spec",
    "evaluate",
    "export_static",
    "fit_epoch",
    "grow",
    "input_statistics",
    "load_checkpoint",
    "load_checkpoint_model",
    "load_model",
    "make_optimizer",
    "penalty",
    "predict",
    "prune",
    "read_architecture",
    "save_checkpoint",
    "save_model_zip",
    "save_onnx",
    "save_torchscript",
    "set_learning_rate",
    "target_statistics",
    "train_epoch",
]
