"""Export formats compute the dynamic model's function; loading never unpickles."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

import dynas_service
from dynas_service.nn import (
    DynamicSettings,
    StaticNet,
    build_model,
    default_spec,
    export_static,
    grow,
    load_model,
    predict,
    prune,
    save_model_zip,
    save_onnx,
    save_torchscript,
)
from tests.nn.helpers import cnn_spec, kill_units, make, mlp_spec

SPECS = {
    "mlp": mlp_spec((7, 5), n_in=6, n_out=3),
    "mlp-images": default_spec(
        "mlp", (1, 4, 4), 3, "classification", hidden_layers=2, initial_units=6
    ),
    "cnn": cnn_spec(),
    "regression": default_spec("mlp", (5,), 1, "regression", hidden_layers=2, initial_units=6),
}


def _trained_looking(name: str):
    """A model after grow + prune, with a dropout-carrying spec for the cnn."""
    spec = SPECS[name]
    g = torch.Generator().manual_seed(0)
    model = build_model(
        spec,
        input_mean=torch.randn(spec.input_shape, generator=g),
        input_std=torch.rand(spec.input_shape, generator=g) + 0.5,
        target_mean=7.0,
        target_std=3.0,
        generator=g,
        device="cpu",
    )
    grow(model, None, DynamicSettings(min_growth=2), g)
    kill_units(model, 0, [1])
    prune(model, None, DynamicSettings())
    return model.eval()


@pytest.mark.parametrize("name", list(SPECS))
def test_all_formats_compute_the_model(name: str, tmp_path: Path) -> None:
    model = _trained_looking(name)
    x = torch.randn(9, *model.input_shape)
    expected = model(x)
    static = export_static(model)
    assert isinstance(static, StaticNet)
    assert all(
        type(m).__module__.startswith("torch.nn") or type(m).__name__ == "Standardize"
        for m in static
    )
    save_model_zip(model, tmp_path / "m.zip")
    save_torchscript(model, tmp_path / "m.pt")
    scripted = torch.jit.load(str(tmp_path / "m.pt"))
    for candidate in (
        static,
        load_model(tmp_path / "m.zip"),
        scripted,
        load_model(tmp_path / "m.pt"),
    ):
        torch.testing.assert_close(candidate(x), expected, rtol=1e-5, atol=1e-5)
    assert dynas_service.load_model(str(tmp_path / "m.zip"))(x).shape == expected.shape


@pytest.mark.parametrize("name", ["cnn", "regression"])
def test_onnx_export_computes_the_model(name: str, tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    from onnx.reference import ReferenceEvaluator

    model = _trained_looking(name)
    assert save_onnx(model, tmp_path / "m.onnx")
    onnx.checker.check_model(onnx.load(str(tmp_path / "m.onnx")))
    x = torch.randn(5, *model.input_shape)
    (out,) = ReferenceEvaluator(str(tmp_path / "m.onnx")).run(None, {"input": x.numpy()})
    np.testing.assert_allclose(out, model(x).detach().numpy(), rtol=1e-4, atol=1e-5)


def test_zip_records_the_discovered_sizes(tmp_path: Path) -> None:
    model = _trained_looking("cnn")
    save_model_zip(model, tmp_path / "m.zip")
    with zipfile.ZipFile(tmp_path / "m.zip") as archive:
        assert sorted(archive.namelist()) == ["architecture.json", "model.safetensors"]
        arch = json.loads(archive.read("architecture.json"))
    assert arch["spec"]["hidden_sizes"] == model.layer_sizes()
    convs = [m["out"] for m in arch["modules"] if m["type"] == "conv2d"]
    assert convs == model.layer_sizes()[:4]


def test_load_model_rejects_unknown_modules_and_bad_files(tmp_path: Path) -> None:
    model = _trained_looking("mlp")
    save_model_zip(model, tmp_path / "m.zip")
    with zipfile.ZipFile(tmp_path / "m.zip") as archive:
        arch = json.loads(archive.read("architecture.json"))
        weights = archive.read("model.safetensors")
    arch["modules"][1] = {"type": "os.system", "cmd": "echo"}
    with zipfile.ZipFile(tmp_path / "evil.zip", "w") as archive:
        archive.writestr("architecture.json", json.dumps(arch))
        archive.writestr("model.safetensors", weights)
    with pytest.raises(ValueError, match="unknown module type"):
        load_model(tmp_path / "evil.zip")
    (tmp_path / "junk.bin").write_bytes(b"not a model")
    with pytest.raises(ValueError, match="neither"):
        load_model(tmp_path / "junk.bin")


def test_predict_classification_and_regression() -> None:
    clf = _trained_looking("cnn")
    x = np.random.default_rng(0).normal(size=(6, 64)).astype(np.float64)  # flat input is fine
    pred = predict(clf, x)
    logits = clf(torch.tensor(x, dtype=torch.float32))
    assert pred.probabilities is not None and pred.probabilities.shape == (6, 4)
    np.testing.assert_allclose(pred.probabilities.sum(1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(pred.predictions, logits.argmax(1).numpy())
    same = predict(export_static(clf), x)
    np.testing.assert_array_equal(same.predictions, pred.predictions)
    reg = _trained_looking("regression")
    xr = np.random.default_rng(1).normal(size=(4, 5))
    rp = predict(reg, xr)
    assert rp.probabilities is None and rp.predictions.dtype == np.float32
    np.testing.assert_allclose(
        rp.predictions,
        reg(torch.tensor(xr, dtype=torch.float32)).reshape(-1).detach().numpy(),
        rtol=1e-6,
    )


@pytest.mark.parametrize(
    ("x", "message"),
    [
        ([[1.0, 2.0]], "numpy array"),
        (np.zeros((0, 6)), "N >= 1"),
        (np.array([["a"] * 6]), "real numbers"),
        (np.full((2, 6), np.nan), "NaN"),
        (np.zeros((2, 5)), "does not fit"),
    ],
)
def test_predict_rejects_bad_inputs(x, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        predict(make(mlp_spec()), x)


def test_load_model_checks_claimed_sizes_before_allocating(tmp_path: Path) -> None:
    model = _trained_looking("mlp")
    save_model_zip(model, tmp_path / "m.zip")
    with zipfile.ZipFile(tmp_path / "m.zip") as archive:
        arch = json.loads(archive.read("architecture.json"))
        weights = archive.read("model.safetensors")
    linear = next(m for m in arch["modules"] if m["type"] == "linear")
    linear["out"] = 10**12  # would need terabytes if allocated
    with zipfile.ZipFile(tmp_path / "huge.zip", "w") as archive:
        archive.writestr("architecture.json", json.dumps(arch))
        archive.writestr("model.safetensors", weights)
    with pytest.raises(ValueError, match="do not match"):
        load_model(tmp_path / "huge.zip")
