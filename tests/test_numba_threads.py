"""The numba backend's threading layer: TBB loads from wherever the ``tbb`` package put
its library, and ``minigrad info`` names the layer that actually runs."""

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import minigrad as mg

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif("numba" not in mg.devices(), reason="numba is not installed")


def tbb_library():
    import importlib.metadata

    try:
        files = importlib.metadata.files("tbb") or ()
    except importlib.metadata.PackageNotFoundError:
        return None
    found = [f.locate() for f in files if f.name == "libtbb.so.12"]
    return Path(os.path.realpath(found[0])) if found else None


def python(code, **env):
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, cwd=ROOT, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **env})
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()


RUNNING_LAYER = textwrap.dedent("""
    import numba, numpy as np
    import minigrad as mg
    backend = mg.get_backend("numba")
    @numba.njit(parallel=True)
    def total(a):
        s = 0.0
        for i in numba.prange(a.size):
            s += a[i]
        return s
    total(np.ones(1000))
    print(numba.threading_layer())
    print(backend.describe())
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/maps")
def test_tbb_is_loaded_from_where_the_package_put_it(tmp_path):
    """A tbb package whose library lies where the loader never looks (here: a folder of
    the test's own) still gives Numba its TBB layer."""
    library = tbb_library()
    if library is None:
        pytest.skip("the tbb package is not installed")
    elsewhere = tmp_path / "lib" / "libtbb.so.12"
    elsewhere.parent.mkdir()
    shutil.copy(library, elsewhere)
    code = f"""
        import importlib.metadata, pathlib
        class File(pathlib.PurePosixPath):
            def locate(self):
                return pathlib.Path({str(elsewhere)!r})
        importlib.metadata.files = lambda name: [File("../../lib/libtbb.so.12")]
        from minigrad.backends.numba_backend import load_tbb
        print(load_tbb())
        print(sorted({{l.split()[-1] for l in open("/proc/self/maps") if "libtbb.so" in l}}))
    """
    loaded, mapped, layer, described = python(textwrap.dedent(code) + RUNNING_LAYER)
    assert loaded == str(elsewhere)
    assert mapped == str([str(elsewhere)])  # that copy, and no other, serves Numba
    assert layer == "tbb" and "tbb layer" in described


def test_info_names_the_layer_that_runs():
    layer, described = python(RUNNING_LAYER)
    assert f"{layer} layer" in described
    info = python("from minigrad.cli import main; main(['info'])")
    numba_line = next(line for line in info if line.strip().startswith("numba"))
    assert f"{layer} layer" in numba_line


def test_a_layer_chosen_by_the_user_is_the_one_named():
    layer, described = python(RUNNING_LAYER, NUMBA_THREADING_LAYER="workqueue")
    assert layer == "workqueue" and "workqueue layer" in described
