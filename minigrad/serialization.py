"""Checkpoints: state dicts of models and optimizers in NumPy's ``.npz`` format.

A checkpoint is an ``.npz`` archive holding every array of the saved object, plus one
entry, ``__minigrad__``, with a JSON manifest: a format marker, a version, and the shape
of the object (dicts with their key types, lists, tuples, numbers, strings, None), whose
arrays point to the other entries. Nothing is pickled, so loading a file cannot run code.

``save`` writes to a temporary file in the target's folder, flushes it to disk, and
renames it over the target, so a crash leaves either the old file or the new one, never
a torn one. The writer holds an exclusive ``flock`` on its temporary file until the rename;
the kernel drops it when the process dies, so the next save to the same target removes
the temporary files of writers that were killed (those nobody holds a lock on).
``load`` refuses any file it did not write, with an error naming the file.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import stat
import zipfile
from typing import Any

import numpy as np

try:
    import fcntl
except ImportError:  # Windows: no flock, so stale temporary files are left alone
    fcntl = None

from .tensor import Tensor

__all__ = ["load", "save"]

FORMAT = "minigrad-checkpoint"
VERSION = 1
MANIFEST = "__minigrad__"


def save(obj: Any, path: str | os.PathLike) -> None:
    """Write ``obj`` to ``path`` (exactly that path; no suffix is added).

    ``obj`` is a dict, list or tuple, nested as deep as needed, of NumPy arrays,
    minigrad tensors (saved as host arrays), NumPy scalars, Python ints, floats, bools,
    strings and None. Dict keys may be strings, ints, floats, bools or None, and keep
    their type, as tuples stay tuples: an optimizer's state dict comes back as it was.
    """
    arrays: dict[str, np.ndarray] = {}
    tree = _encode(obj, arrays, "obj")
    manifest = json.dumps({"format": FORMAT, "version": VERSION, "tree": tree})
    entries = {MANIFEST: np.frombuffer(manifest.encode("utf-8"), dtype=np.uint8)}
    entries.update(arrays)

    target = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(target))
    name = os.path.basename(target)
    _remove_stale_temporaries(folder, name)
    try:
        tmp, fd, locked = _create_temporary(folder, name)
    except OSError as err:  # about the user's path, not the hidden temporary one
        raise _about(err, target) from None
    try:
        # a locked file stays open until renamed; others are closed first (Windows cannot
        # rename an open file)
        with os.fdopen(fd, "wb", closefd=not locked) as f:
            np.savez(f, **entries)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.replace(tmp, target)
        except OSError as err:  # the target is a folder, say
            raise _about(err, target) from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    finally:
        if locked:
            os.close(fd)  # releases the lock, after the rename
    _fsync_folder(folder)


def load(path: str | os.PathLike) -> Any:
    """Read a checkpoint written by :func:`save`; arrays come back as NumPy arrays.

    Raises ``ValueError`` naming the file when it is not a minigrad checkpoint (another
    format, a plain ``np.savez`` archive) or is truncated or corrupt.
    """
    name = os.fspath(path)
    with open(name, "rb") as f:
        if not f.read(2) == b"PK":
            raise ValueError(f"{name!s} is not a minigrad checkpoint (not an .npz archive)")
        f.seek(0)
        try:
            with np.load(f, allow_pickle=False) as archive:
                return _read(archive, name)
        except _NotOurs as err:
            raise ValueError(f"{name!s} is not a minigrad checkpoint ({err})") from None
        except _DAMAGED as err:
            raise ValueError(
                f"{name!s} is not a readable minigrad checkpoint: the file is truncated or "
                f"corrupt ({type(err).__name__}: {err})"
            ) from err


# what reading a damaged zip archive or .npy entry raises, depending on where the damage is
_DAMAGED = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, KeyError, OSError,
            NotImplementedError, RuntimeError)


class _NotOurs(Exception):
    """A well-formed file that minigrad did not write."""


def _read(archive: Any, name: str) -> Any:
    if MANIFEST not in archive.files:
        raise _NotOurs("an .npz archive without minigrad's manifest, as np.savez writes")
    raw = archive[MANIFEST]
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise _NotOurs("its manifest entry is not minigrad's")
    try:
        manifest = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"unreadable manifest: {err}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _NotOurs("its manifest has no minigrad format marker")
    version = manifest.get("version")
    if not isinstance(version, int) or version < 1:
        raise ValueError(f"bad format version {version!r}")
    if version > VERSION:
        raise _NotOurs(
            f"format version {version}, written by a newer minigrad; this one reads "
            f"versions up to {VERSION}"
        )
    if "tree" not in manifest:
        raise ValueError("the manifest describes no object")
    return _decode(manifest["tree"], archive)


# The manifest's tree: one JSON object per value, {"t": type, ...}.
_SCALAR_TYPES = {"none": type(None), "bool": bool, "int": int, "float": float, "str": str}


def _encode(obj: Any, arrays: dict[str, np.ndarray], where: str) -> dict[str, Any]:
    """The manifest node of ``obj``; its arrays are added to ``arrays``."""
    if isinstance(obj, Tensor):
        return _encode_array(obj.numpy(), "array", arrays, where)
    if isinstance(obj, np.ndarray):
        return _encode_array(obj, "array", arrays, where)
    if isinstance(obj, np.generic):  # before float: np.float64 is a float
        return _encode_array(np.asarray(obj), "scalar", arrays, where)
    if obj is None:
        return {"t": "none"}
    if isinstance(obj, bool):  # before int: bool is an int
        return {"t": "bool", "v": obj}
    if isinstance(obj, int):
        return {"t": "int", "v": int(obj)}
    if isinstance(obj, float):
        # JSON floats round-trip exactly; nan and inf are written as NaN and Infinity
        return {"t": "float", "v": float(obj)}
    if isinstance(obj, str):
        return {"t": "str", "v": obj}
    if isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            if key is not None and not isinstance(key, (bool, int, float, str)):
                raise TypeError(
                    f"cannot save {where}: dict keys must be str, int, float, bool or None, "
                    f"not {type(key).__name__}"
                )
            items.append([_encode(key, arrays, where), _encode(value, arrays, f"{where}[{key!r}]")])
        return {"t": "dict", "items": items}
    if isinstance(obj, (list, tuple)):
        kind = "list" if isinstance(obj, list) else "tuple"
        items = [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(obj)]
        return {"t": kind, "items": items}
    hint = " (save model.state_dict() instead)" if hasattr(obj, "state_dict") else ""
    raise TypeError(
        f"cannot save {where}: {type(obj).__name__} is not an array, tensor, number, str, "
        f"None, dict, list or tuple{hint}"
    )


def _encode_array(a: np.ndarray, kind: str, arrays: dict, where: str) -> dict[str, Any]:
    if a.dtype.hasobject:
        raise TypeError(f"cannot save {where}: arrays of Python objects cannot be saved")
    key = f"a{len(arrays)}"
    arrays[key] = a
    return {"t": kind, "k": key}


def _decode(node: Any, archive: Any) -> Any:
    if not isinstance(node, dict) or "t" not in node:
        raise ValueError(f"malformed manifest entry {node!r}")
    kind = node["t"]
    if kind in _SCALAR_TYPES:
        value = node.get("v")
        expected = _SCALAR_TYPES[kind]
        if kind == "float" and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if type(value) is not expected:
            raise ValueError(f"malformed {kind} entry {node!r}")
        return value
    if kind in ("array", "scalar"):
        key = node.get("k")
        if not isinstance(key, str) or key == MANIFEST or key not in archive.files:
            raise ValueError(f"the manifest names an array {key!r} that the archive lacks")
        array = archive[key]
        return array[()] if kind == "scalar" else array
    if kind in ("list", "tuple"):
        items = [_decode(v, archive) for v in _items(node)]
        return items if kind == "list" else tuple(items)
    if kind == "dict":
        out = {}
        for pair in _items(node):
            if not isinstance(pair, list) or len(pair) != 2:
                raise ValueError(f"malformed dict item {pair!r}")
            key = _decode(pair[0], archive)
            if isinstance(key, (np.ndarray, np.generic, list, tuple, dict)):
                raise ValueError(f"malformed dict key {pair[0]!r}")
            out[key] = _decode(pair[1], archive)
        return out
    raise ValueError(f"unknown manifest entry type {kind!r}")


def _items(node: dict) -> list:
    items = node.get("items")
    if not isinstance(items, list):
        raise ValueError(f"malformed manifest entry {node!r}")
    return items


def _temporary_pattern(name: str) -> re.Pattern:
    return re.compile(re.escape(f".{name}.") + r"[0-9a-f]{12}\.tmp")


def _create_temporary(folder: str, name: str) -> tuple[str, int, bool]:
    """A new temporary file for ``name`` in ``folder``: its path, its descriptor, and whether
    it is locked (not where the platform or file system has no flock)."""
    while True:
        tmp = os.path.join(folder, f".{name}.{secrets.token_hex(6)}.tmp")
        # 0o666 lets the umask decide the permissions, as for any file the user creates
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                     0o666)
        if not _lock(fd, blocking=True):
            return tmp, fd, False  # without locks, no save removes it either
        try:
            if os.path.samestat(os.stat(tmp), os.fstat(fd)):
                return tmp, fd, True
        except FileNotFoundError:
            pass
        # another save found it unlocked, just before the lock, and removed it
        os.close(fd)


def _remove_stale_temporaries(folder: str, name: str) -> None:
    """Remove the temporary files of earlier saves to ``name`` whose writer died (their
    lock is free); files being written are locked, and other files do not match."""
    if fcntl is None:
        return
    pattern = _temporary_pattern(name)
    try:
        entries = [e for e in os.listdir(folder) if pattern.fullmatch(e)]
    except OSError:
        return
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    for entry in entries:
        path = os.path.join(folder, entry)
        try:
            fd = os.open(path, flags)
        except OSError:
            continue
        try:
            if stat.S_ISREG(os.fstat(fd).st_mode) and _lock(fd, blocking=False):
                os.unlink(path)
        except OSError:
            pass
        finally:
            os.close(fd)


def _lock(fd: int, blocking: bool) -> bool:
    """Take an exclusive flock on ``fd``; False where it is held or locks are unsupported."""
    if fcntl is None:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except OSError:
        return False
    return True


def _about(err: OSError, path: str) -> OSError:
    """The same error, naming ``path``."""
    if err.errno is None:
        return err
    return type(err)(err.errno, err.strerror, path)


def _fsync_folder(folder: str) -> None:
    """Make the rename itself durable, where the platform allows syncing a folder."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
