"""Checkpoints: exact round trips, atomic writes, and refusal of files minigrad did not write."""

import json
import os
import pathlib

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, serialization
from minigrad.serialization import load, save


def assert_same(a, b, where="obj"):
    """Equal values AND equal types all the way down (tuple is not list, 1 is not True)."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(a, np.generic):
        assert a.dtype == b.dtype, where
        assert a == b or (np.isnan(a) and np.isnan(b)), where
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for (ka, va), kb in zip(a.items(), b):
            assert type(ka) is type(kb), f"{where}: key {ka!r}"
            assert_same(va, b[kb], f"{where}[{ka!r}]")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b), where
    else:
        assert a == b, where


def optimizer_like_state():
    rng = np.random.default_rng(0)
    return {
        "state": {
            0: {"step": 3, "exp_avg": rng.standard_normal((4, 3)).astype(np.float32),
                "exp_avg_sq": rng.random((4, 3))},
            1: {"step": 3, "exp_avg": rng.standard_normal(3).astype(np.float32),
                "max": np.float64(0.25), "count": np.int64(7)},
        },
        "param_groups": [
            {"lr": 0.1, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0,
             "amsgrad": False, "nesterov": True, "name": "body", "foreach": None,
             "params": [0, 1], "tiny": 5e-324, "big": 2**70, "nan": float("nan"),
             "inf": float("-inf")},
        ],
        "nested": [(1, [2.5, "three"], {"x": None}), ()],
        "empty": {},
        "labels": np.array(["a", "bc"]),
        "mask": np.array([True, False]),
        "ints": np.arange(5, dtype=np.int32),
        "scalar0d": np.array(1.5),
        2.5: "float key",
        True: "bool key",
        None: "none key",
    }


def test_optimizer_state_round_trip_is_exact(tmp_path):
    obj = optimizer_like_state()
    path = tmp_path / "opt.ckpt"
    save(obj, path)
    back = load(path)
    assert_same(obj, back)
    assert back["param_groups"][0]["betas"] == (0.9, 0.999)
    assert set(back["state"]) == {0, 1}


def test_model_state_dict_round_trip(tmp_path):
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    model.register_buffer("steps", mg.tensor([3]))
    state = model.state_dict()
    save(state, str(tmp_path / "model.npz"))
    back = load(str(tmp_path / "model.npz"))
    assert list(back) == ["steps", "0.weight", "0.bias", "2.weight", "2.bias"]
    for key in state:
        assert back[key].dtype == state[key].dtype
        np.testing.assert_array_equal(back[key], state[key])
    other = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    other.register_buffer("steps", mg.tensor([0]))
    other.load_state_dict(back)
    x = mg.randn(5, 4)
    np.testing.assert_array_equal(other(x).numpy(), model(x).numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tensors_are_saved_as_host_arrays(tmp_path, device, dtype):
    t = mg.randn(3, 2, dtype=dtype, device=device, requires_grad=True)
    save({"w": t, "p": nn.Parameter(t)}, tmp_path / "t.npz")
    back = load(tmp_path / "t.npz")
    for key in ("w", "p"):
        assert type(back[key]) is np.ndarray
        assert back[key].dtype == dtype
        np.testing.assert_array_equal(back[key], t.numpy())


def test_exported_as_mg_save_and_mg_load():
    assert mg.save is save and mg.load is load


def test_path_is_used_exactly_as_given(tmp_path):
    save({"a": 1}, tmp_path / "checkpoint.bin")
    assert os.listdir(tmp_path) == ["checkpoint.bin"]
    assert load(pathlib.Path(tmp_path, "checkpoint.bin")) == {"a": 1}
    save([1, 2], str(tmp_path / "checkpoint.bin"))  # overwrite
    assert load(tmp_path / "checkpoint.bin") == [1, 2]


def test_unsupported_values_are_refused(tmp_path):
    with pytest.raises(TypeError, match="set"):
        save({"a": {1, 2}}, tmp_path / "x")
    with pytest.raises(TypeError, match="objects"):
        save({"a": np.array([None, 1])}, tmp_path / "x")
    with pytest.raises(TypeError, match="keys"):
        save({(1, 2): 0}, tmp_path / "x")
    with pytest.raises(TypeError, match="state_dict"):
        save(nn.Linear(2, 2), tmp_path / "x")
    assert os.listdir(tmp_path) == []


def test_failed_rename_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "model.ckpt"
    save({"w": np.arange(3.0)}, path)
    before = path.read_bytes()

    def crash(src, dst):
        raise OSError("simulated crash before the rename")

    monkeypatch.setattr(serialization.os, "replace", crash)
    with pytest.raises(OSError, match="simulated"):
        save({"w": np.zeros(1000)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.ckpt"]
    monkeypatch.undo()
    np.testing.assert_array_equal(load(path)["w"], np.arange(3.0))


def test_crash_while_writing_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "model.ckpt"
    save({"w": np.arange(3.0)}, path)
    before = path.read_bytes()
    real_savez = np.savez

    def torn_savez(file, **arrays):
        real_savez(file, **arrays)
        file.seek(file.tell() // 2)
        file.truncate()
        raise KeyboardInterrupt  # the process is killed half way

    monkeypatch.setattr(serialization.np, "savez", torn_savez)
    with pytest.raises(KeyboardInterrupt):
        save({"w": np.zeros(1000)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.ckpt"]


def test_new_file_gets_ordinary_permissions(tmp_path):
    if os.name != "posix":
        pytest.skip("POSIX permissions")
    umask = os.umask(0o022)
    os.umask(umask)
    save({"a": 1}, tmp_path / "c")
    assert (tmp_path / "c").stat().st_mode & 0o777 == 0o666 & ~umask


def refused(path, reason):
    with pytest.raises(ValueError) as info:
        load(path)
    message = str(info.value)
    assert str(path) in message
    assert reason in message
    return message


def test_refuses_garbage_bytes(tmp_path):
    path = tmp_path / "garbage.npz"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    refused(path, "not a minigrad checkpoint")
    path.write_bytes(b"PK" + bytes(100))  # zip magic, then nothing a zip reader accepts
    refused(path, "truncated or corrupt")
    path.write_bytes(b"")
    refused(path, "not a minigrad checkpoint")


def test_refuses_a_text_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("epoch 1: loss 0.3\n")
    refused(path, "not a minigrad checkpoint")


def test_refuses_plain_numpy_files(tmp_path):
    plain = tmp_path / "plain.npz"
    np.savez(plain, weight=np.ones(3))
    refused(plain, "not a minigrad checkpoint")
    single = tmp_path / "single.npy"
    np.save(single, np.ones(3))
    refused(single, "not a minigrad checkpoint")
    # a manifest entry with someone else's marker
    foreign = tmp_path / "foreign.npz"
    marker = json.dumps({"format": "other", "version": 1, "tree": {"t": "none"}}).encode()
    np.savez(foreign, __minigrad__=np.frombuffer(marker, dtype=np.uint8))
    refused(foreign, "not a minigrad checkpoint")


def test_refuses_a_checkpoint_from_a_newer_format(tmp_path):
    path = tmp_path / "future.npz"
    manifest = {"format": serialization.FORMAT, "version": serialization.VERSION + 1,
                "tree": {"t": "none"}}
    np.savez(path, __minigrad__=np.frombuffer(json.dumps(manifest).encode(), dtype=np.uint8))
    refused(path, "newer")


def test_refuses_truncated_checkpoints(tmp_path):
    path = tmp_path / "model.ckpt"
    save(optimizer_like_state(), path)
    data = path.read_bytes()
    for cut in (1, 10, len(data) // 3, len(data) // 2, len(data) - 30, len(data) - 1):
        path.write_bytes(data[:cut])
        refused(path, "not a")  # "not a minigrad checkpoint" or "not a readable ..."
    path.write_bytes(data[:len(data) // 2])
    refused(path, "truncated or corrupt")


def test_refuses_corrupted_array_data(tmp_path):
    path = tmp_path / "model.ckpt"
    big = np.arange(10_000, dtype=np.float64)
    save({"w": big}, path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # inside the array's bytes: its CRC no longer matches
    path.write_bytes(bytes(data))
    refused(path, "truncated or corrupt")


def test_missing_file_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nothing.npz")


def test_saving_into_a_missing_folder_names_the_path(tmp_path):
    path = tmp_path / "missing" / "model.ckpt"
    with pytest.raises(FileNotFoundError) as info:
        save({"w": np.ones(3)}, path)
    assert info.value.filename == str(path)
    assert str(path) in str(info.value) and ".tmp" not in str(info.value)


_WRITER = """
import sys
import numpy as np
from minigrad.serialization import save
big = {"w": np.ones(8_000_000)}  # 64 MB
while True:
    save(big, sys.argv[1])
"""


def _temporaries(folder):
    return sorted(name for name in os.listdir(folder) if name.endswith(".tmp"))


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL and flock")
def test_a_save_removes_the_temporaries_of_killed_writers(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    root = pathlib.Path(__file__).resolve().parents[1]
    path = tmp_path / "model.ckpt"
    save({"w": np.arange(3.0)}, path)
    for _ in range(3):  # each writer is killed while it writes a temporary file
        writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)], cwd=root,
                                  env={**os.environ, "PYTHONPATH": str(root)})
        try:
            deadline = time.monotonic() + 60
            before = set(_temporaries(tmp_path))
            while not set(_temporaries(tmp_path)) - before and time.monotonic() < deadline:
                time.sleep(0.002)
        finally:
            writer.send_signal(signal.SIGKILL)
            writer.wait()
    stale = _temporaries(tmp_path)
    assert stale, "no writer was killed while writing"
    assert load(path)["w"].shape in ((3,), (8_000_000,))  # the old file or a whole new one
    save({"w": np.ones(2)}, path)
    assert os.listdir(tmp_path) == ["model.ckpt"]
    np.testing.assert_array_equal(load(path)["w"], np.ones(2))


@pytest.mark.skipif(os.name != "posix", reason="flock")
def test_a_save_keeps_temporaries_being_written_and_other_files(tmp_path):
    import fcntl

    path = tmp_path / "model.ckpt"
    live = tmp_path / ".model.ckpt.0123456789ab.tmp"
    others = [".other.ckpt.0123456789ab.tmp", ".model.ckpt.backup.tmp", "model.ckpt.tmp"]
    for name in others:
        (tmp_path / name).write_bytes(b"x")
    with open(live, "wb") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)  # a writer at work
        save({"w": np.ones(2)}, path)
        assert live.exists()
    save({"w": np.ones(2)}, path)  # its writer is gone now
    assert sorted(os.listdir(tmp_path)) == sorted(others + ["model.ckpt"])


def test_saving_over_a_folder_names_the_path_and_leaves_nothing(tmp_path):
    (tmp_path / "model.ckpt").mkdir()
    with pytest.raises(OSError) as info:
        save({"w": np.ones(3)}, tmp_path / "model.ckpt")
    assert info.value.filename == str(tmp_path / "model.ckpt")
    assert ".tmp" not in str(info.value)
    assert os.listdir(tmp_path) == ["model.ckpt"]
