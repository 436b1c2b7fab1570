"""The ``minigrad`` command as a user meets it: one-line errors, resuming that keeps the
checkpoint's settings, options that do what they say, honest help, logs and Ctrl-C."""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import minigrad as mg
from minigrad import training
from minigrad.cli import build_parser, main

ROOT = Path(__file__).resolve().parent.parent
FAST = ["--data", "spirals", "--hidden", "8", "--no-plot", "--no-progress"]


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # runs/latest and friends land here


def run(capsys, *args):
    code = main(["train", *args])
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err):
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("minigrad train: error: ")
    assert "Traceback" not in err
    return lines[0]


def checkpoint(tmp_path, epochs=2, *extra):
    assert main(["train", *FAST, "--epochs", str(epochs), "--out", str(tmp_path / "run"),
                 "--quiet", *extra]) == 0
    return str(tmp_path / "run" / "checkpoint.npz")


def not_a_training_checkpoint(tmp_path):
    mg.save({"model": {}}, tmp_path / "weights.npz")
    return str(tmp_path / "weights.npz")


def not_a_checkpoint(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    return str(tmp_path / "notes.txt")


BAD = {
    "loss that does not fit": (["--data", "digits", "--loss", "mse"], "--loss mse"),
    "binary loss on many classes": (["--loss", "hinge"], "binary"),
    "unknown device": (["--device", "gpu"], "--device gpu"),
    "zero epochs": (["--epochs", "0"], "--epochs"),
    "negative seed": (["--seed", "-1"], "--seed"),
    "negative lr": (["--lr", "-0.1"], "--lr"),
    "test fraction": (["--test-fraction", "1"], "--test-fraction"),
    "missing mnist": (["--data", "mnist", "--data-path", "{tmp}"], "MNIST file"),
    "mnist without a folder": (["--data", "mnist"], "--data-path"),
    "data path for a built-in set": (["--data", "moons", "--data-path", "{tmp}"],
                                     "--data-path"),
    "missing checkpoint": (["--resume", "{tmp}/nowhere.npz"], "--resume"),
    "not a checkpoint": (["--resume", not_a_checkpoint], "not a minigrad checkpoint"),
    "not a training checkpoint": (["--resume", not_a_training_checkpoint], "'config'"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_one_line_and_a_nonzero_status(case, capsys, tmp_path):
    args, said = BAD[case]
    args = [a(tmp_path) if callable(a) else a.format(tmp=tmp_path) for a in args]
    if "--epochs" not in args:
        args += ["--epochs", "1"]
    code, _, err = run(capsys, *args, "--no-plot")
    assert code != 0
    assert said in one_error_line(err)


def test_unavailable_device_is_one_line(capsys):
    missing = [d for d in mg.backend.known_devices() if d not in mg.devices()]
    if not missing:
        pytest.skip("every device is usable here")
    code, _, err = run(capsys, "--device", missing[0])
    assert code != 0 and "not available" in one_error_line(err)


def test_debug_shows_the_traceback():
    with pytest.raises(training.TrainingError, match="--epochs"):
        main(["train", "--epochs", "0", "--debug"])


def test_unforeseen_errors_are_one_line_too(capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(training, "build_model", broken)
    code, _, err = run(capsys, *FAST, "--epochs", "1")
    assert code == 1
    assert "ZeroDivisionError: division by zero (--debug shows the traceback)" in \
        one_error_line(err)


# --resume: the checkpoint's config defines the run


@pytest.mark.parametrize("flag, value", [
    ("--seed", "5"), ("--test-fraction", "0.5"), ("--data", "digits"), ("--hidden", "16"),
    ("--optimizer", "sgd"), ("--batch-size", "8"), ("--activation", "tanh"),
    ("--loss", "multi_margin"), ("--weight-decay", "0.1"),
])
def test_resume_refuses_settings_that_conflict_with_the_checkpoint(flag, value, capsys,
                                                                   tmp_path):
    path = checkpoint(tmp_path)
    before = mg.load(path)
    code, _, err = run(capsys, "--resume", path, "--epochs", "4", flag, value)
    assert code == 2
    line = one_error_line(err)
    assert f"{flag} {value}" in line and "checkpoint" in line
    after = mg.load(path)
    assert after["epoch"] == before["epoch"] == 2  # nothing was trained


def test_resume_accepts_settings_equal_to_the_checkpoints(capsys, tmp_path):
    path = checkpoint(tmp_path)
    code, out, _ = run(capsys, *FAST, "--resume", path, "--epochs", "3", "--seed", "0")
    assert code == 0 and "epoch   3/3" in out


def test_resume_keeps_the_split_and_continues_the_run(capsys, tmp_path):
    whole = tmp_path / "whole"
    assert main(["train", *FAST, "--epochs", "3", "--out", str(whole), "--quiet"]) == 0
    path = checkpoint(tmp_path)
    # out, device and the rest come from the checkpoint; only --resume is given
    assert main(["train", "--resume", path, "--epochs", "3", "--no-progress"]) == 0
    resumed = json.loads((tmp_path / "run" / "metrics.json").read_text())
    expected = json.loads((whole / "metrics.json").read_text())
    assert resumed["history"] == expected["history"]
    assert not (tmp_path / "runs").exists()


def test_resume_applies_a_new_lr_and_says_so(capsys, tmp_path):
    path = checkpoint(tmp_path, 2, "--optimizer", "sgd")
    code, out, _ = run(capsys, "--resume", path, "--epochs", "3", "--lr", "0.01")
    assert code == 0
    assert "changed: epochs 2 -> 3, lr 0.05 -> 0.01" in out
    saved = mg.load(path)
    assert saved["optimizer"]["param_groups"][0]["lr"] == 0.01
    assert json.loads(str(saved["config"]))["lr"] == 0.01


@pytest.mark.parametrize("epochs", [[], ["--epochs", "2"], ["--epochs", "1"]])
def test_resume_with_nothing_to_do_says_so(epochs, capsys, tmp_path):
    path = checkpoint(tmp_path)
    capsys.readouterr()
    code, out, err = run(capsys, "--resume", path, *epochs)
    assert code == 2
    assert "2 epochs" in one_error_line(err) and "checkpoint" not in out


# options


@pytest.mark.parametrize("extra, decay", [([], 0.01), (["--weight-decay", "0"], 0.0),
                                          (["--weight-decay", "0.2"], 0.2)])
def test_adamw_weight_decay_is_the_one_given(extra, decay, tmp_path):
    path = checkpoint(tmp_path, 1, "--optimizer", "adamw", *extra)
    saved = mg.load(path)
    assert saved["optimizer"]["param_groups"][0]["weight_decay"] == decay
    assert json.loads(str(saved["config"]))["weight_decay"] == decay


def test_zero_lr_is_warned_about(capsys):
    code, _, err = run(capsys, *FAST, "--epochs", "1", "--lr", "0")
    assert code == 0 and "warning: --lr 0" in err


def test_quiet_prints_only_the_final_line(capsys):
    code, out, err = run(capsys, "--data", "spirals", "--hidden", "8", "--epochs", "2",
                         "--quiet")
    assert code == 0 and err == ""
    assert len(out.splitlines()) == 1 and out.startswith("done in")
    assert Path("runs/latest/curves.png").exists() or "matplotlib" not in sys.modules


def test_global_batch_smaller_than_the_ranks_is_refused(capsys, monkeypatch):
    class ThreeRanks:
        size = staticmethod(lambda: 3)
        rank = staticmethod(lambda: 0)

    monkeypatch.setattr(training, "_distributed", lambda: ThreeRanks)
    code, _, err = run(capsys, *FAST, "--batch-size", "2", "--epochs", "1")
    assert code == 2 and "3 MPI processes" in one_error_line(err)


def test_help_gives_each_option_one_line_and_its_true_default():
    train = build_parser()._subparsers._group_actions[0].choices["train"]
    options = [a for a in train._actions if a.option_strings and a.dest != "help"]
    assert len(options) >= 19
    for action in options:
        assert action.help, action.option_strings
        assert action.help.count("default") <= 1, action.help
        assert "True" not in action.help and "(128,)" not in action.help
        assert action.default in (argparse.SUPPRESS, False), action.dest
    text = train.format_help()
    assert "(default: 30;" in text and "(default: 128)" in text and "0.01 for adamw" in text
    defaults = training.TrainConfig()
    for dest, shown in (("epochs", "30"), ("seed", "0"), ("test_fraction", "0.2"),
                        ("batch_size", "32"), ("activation", "relu"), ("optimizer", "adam")):
        action = next(a for a in options if a.dest == dest)
        assert f"(default: {shown}" in action.help
        assert str(getattr(defaults, dest)) == shown


# logs and Ctrl-C


def test_a_log_gets_one_line_per_epoch(tmp_path):
    done = subprocess.run([sys.executable, "-m", "minigrad", "train", "--data", "spirals",
                           "--hidden", "8", "--epochs", "3", "--no-plot", "--out",
                           str(tmp_path)], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no progress bar redrawn into the log
    epochs = [line for line in done.stdout.splitlines() if line.startswith("epoch")]
    assert [line.split()[1] for line in epochs] == ["1/3", "2/3", "3/3"]


def test_ctrl_c_saves_the_epochs_done_and_says_how_to_resume(capsys, monkeypatch, tmp_path):
    real = training.evaluate
    calls = []

    def interrupted_in_epoch_3(*args):
        calls.append(1)
        if len(calls) == 5:  # two evaluations per epoch
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(training, "evaluate", interrupted_in_epoch_3)
    out = tmp_path / "run"
    code, _, err = run(capsys, "--data", "spirals", "--hidden", "8", "--epochs", "5",
                       "--out", str(out), "--no-progress")
    assert code == 130
    path = out / "checkpoint.npz"
    assert f"--resume {path}" in err and len(err.strip().splitlines()) == 1
    assert mg.load(path)["epoch"] == 2
    assert len(json.loads((out / "metrics.json").read_text())["history"]["train_loss"]) == 2
    pytest.importorskip("matplotlib")
    assert (out / "curves.png").exists()
    monkeypatch.setattr(training, "evaluate", real)
    code, stdout, _ = run(capsys, "--resume", str(path))  # up to the run's own 5 epochs
    assert code == 0 and "epoch   5/5" in stdout and "epoch   3/5" in stdout


def test_ctrl_c_in_the_first_epoch_says_nothing_was_saved(capsys, monkeypatch):
    def interrupt(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(training, "evaluate", interrupt)
    code, _, err = run(capsys, *FAST, "--epochs", "2")
    assert code == 130 and "before any checkpoint" in err


# python -m minigrad


def test_python_dash_m_minigrad_is_the_command():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    version = subprocess.run([sys.executable, "-m", "minigrad", "--version"],
                             capture_output=True, text=True, cwd=ROOT, env=env, timeout=60)
    assert version.returncode == 0 and version.stdout.startswith("minigrad ")
    bad = subprocess.run([sys.executable, "-m", "minigrad", "train", "--epochs", "0"],
                         capture_output=True, text=True, cwd=ROOT, env=env, timeout=60)
    assert bad.returncode == 2
    assert bad.stderr.strip() == "minigrad train: error: --epochs must be at least 1, got 0"
