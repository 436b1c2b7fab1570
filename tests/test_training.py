"""The training command end to end: metrics, checkpoint, plot, resume, bad arguments."""

import json
import subprocess
import sys

import numpy as np
import pytest

import minigrad as mg
from minigrad.cli import main
from minigrad.training import TrainConfig, train


def test_digits_training_reaches_a_good_accuracy(tmp_path, device):
    result = train(TrainConfig(epochs=8, out=str(tmp_path), device=device, progress=False,
                               quiet=True))
    assert result["final"]["test_accuracy"] > 0.93
    assert result["history"]["train_loss"][-1] < result["history"]["train_loss"][0]
    assert (tmp_path / "checkpoint.npz").exists()
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["final"]["test_accuracy"] == result["final"]["test_accuracy"]
    assert (tmp_path / "curves.png").stat().st_size > 1000


def test_resuming_repeats_the_uninterrupted_run(tmp_path):
    common = {"data": "spirals", "hidden": (16,), "progress": False, "quiet": True,
              "plot": False}
    whole = train(TrainConfig(epochs=4, out=str(tmp_path / "whole"), **common))
    train(TrainConfig(epochs=2, out=str(tmp_path / "parts"), **common))
    resumed = train(TrainConfig(epochs=4, out=str(tmp_path / "parts"),
                                resume=str(tmp_path / "parts" / "checkpoint.npz"), **common))
    assert resumed["history"] == whole["history"]
    a = mg.load(tmp_path / "whole" / "checkpoint.npz")["model"]
    b = mg.load(tmp_path / "parts" / "checkpoint.npz")["model"]
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


@pytest.mark.parametrize("loss, optimizer, batch", [
    ("multi_margin", "momentum", "16"),
    ("cross_entropy", "rmsprop", "full"),
    ("cross_entropy", "nesterov", "64"),
])
def test_command_line_options(tmp_path, capsys, loss, optimizer, batch):
    code = main(["train", "--data", "spirals", "--hidden", "32,32", "--loss", loss,
                 "--optimizer", optimizer, "--batch-size", batch, "--epochs", "3",
                 "--out", str(tmp_path), "--no-progress", "--no-plot"])
    assert code == 0
    out = capsys.readouterr().out
    assert "epoch   3/3" in out and "test_accuracy" in out


def test_binary_and_regression_losses(tmp_path):
    moons = train(TrainConfig(data="moons", loss="hinge", hidden=(16,), epochs=20, lr=0.01,
                              out=str(tmp_path / "m"), progress=False, quiet=True, plot=False))
    assert moons["final"]["test_accuracy"] > 0.8
    for loss in ("mse", "huber", "l1"):
        reg = train(TrainConfig(data="regression", loss=loss, hidden=(), epochs=5, lr=0.05,
                                out=str(tmp_path / loss), progress=False, quiet=True,
                                plot=False))
        assert "test_accuracy" not in reg["final"]
        assert reg["history"]["train_loss"][-1] < reg["history"]["train_loss"][0]


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(ValueError, match="does not fit"):
        TrainConfig(data="digits", loss="mse")
    with pytest.raises(ValueError, match="binary"):
        train(TrainConfig(data="digits", loss="hinge", epochs=1, out=str(tmp_path),
                          quiet=True, progress=False))
    with pytest.raises(ValueError, match="data-path"):
        TrainConfig(data="mnist")
    with pytest.raises(SystemExit):
        main(["train", "--batch-size", "lots"])


def test_info_lists_devices():
    out = subprocess.run([sys.executable, "-m", "minigrad.cli", "info"], capture_output=True,
                         text=True, check=True).stdout
    assert "numpy" in out and "usable" in out and "cupy" in out


def test_the_cnn_model_trains_on_the_digits_as_images(tmp_path):
    result = train(TrainConfig(model="cnn", epochs=2, out=str(tmp_path), progress=False,
                               quiet=True, plot=False))
    assert result["final"]["test_accuracy"] > 0.9
    model = mg.load(tmp_path / "checkpoint.npz")["model"]
    assert model["1.weight"].shape == (32, 1, 3, 3)  # after the Unflatten
    assert "2.running_mean" in model and "2.num_batches_tracked" in model


def test_the_cnn_model_needs_image_data(tmp_path, capsys):
    code = main(["train", "--model", "cnn", "--data", "spirals", "--out", str(tmp_path)])
    assert code != 0
    assert "--model cnn needs images" in capsys.readouterr().err


def test_compiled_and_eager_training_end_the_same(tmp_path):
    common = {"data": "spirals", "hidden": (16,), "epochs": 3, "progress": False,
              "quiet": True, "plot": False}
    a = train(TrainConfig(compile=True, out=str(tmp_path / "a"), **common))
    b = train(TrainConfig(compile=False, out=str(tmp_path / "b"), **common))
    assert a["history"] == b["history"]
    wa = mg.load(tmp_path / "a" / "checkpoint.npz")["model"]
    wb = mg.load(tmp_path / "b" / "checkpoint.npz")["model"]
    for key in wa:
        np.testing.assert_array_equal(wa[key], wb[key])


def test_a_step_compile_cannot_replay_says_why(tmp_path, capsys):
    code = main(["train", "--data", "spirals", "--hidden", "8", "--loss", "multi_margin",
                 "--epochs", "1", "--out", str(tmp_path), "--no-progress", "--no-plot"])
    assert code == 0
    assert "the compiled step runs eagerly: it uses" in capsys.readouterr().out
