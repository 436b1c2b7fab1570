"""glibc's malloc, tuned by ``tune_malloc()`` (which ``minigrad train`` and ``bench`` call, and
creating a backend does not): freed arrays are reused, not faulted in again; the setting
gives way to the user's own."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

import minigrad as mg
from minigrad import host_memory

GLIBC = (hasattr(os, "confstr")
         and (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc"))

# A step's worth of arrays (2 MiB each, 8 MiB in all) made and freed 20 times; prints the
# minor page faults per round and what tune_malloc said.
ROUNDS = textwrap.dedent("""
    import json, resource
    import numpy as np
    import minigrad as mg
    from minigrad.host_memory import malloc_settings, tune_malloc
    mg.zeros(1)  # the numpy backend is created here, and leaves malloc alone
    created = malloc_settings()
    tune_malloc()
    def round_():
        arrays = [np.ones(1 << 19, dtype=np.float32) for _ in range(4)]
        del arrays
    round_()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(20):
        round_()
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20
    print(json.dumps({"faults": faults, "malloc": malloc_settings(), "created": created}))
""")


def _rounds(**env: str) -> dict:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith("MALLOC_") and k not in ("MINIGRAD_TUNE_MALLOC", "LD_PRELOAD")}
    done = subprocess.run([sys.executable, "-c", ROUNDS], capture_output=True, text=True,
                          env={**clean, **env}, check=True)
    return json.loads(done.stdout)


@pytest.mark.skipif(not GLIBC, reason="the setting is glibc's")
def test_freed_arrays_are_reused_instead_of_faulted_in_again():
    tuned = _rounds()
    assert tuned["malloc"].startswith("glibc keeps freed memory")
    assert tuned["faults"] < 50  # 8 MiB faulted in would be 2048 pages


@pytest.mark.skipif(not GLIBC, reason="the setting is glibc's")
def test_without_the_setting_every_round_faults_its_memory_in():
    untuned = _rounds(MINIGRAD_TUNE_MALLOC="0")
    assert untuned["malloc"] == "left as it is (MINIGRAD_TUNE_MALLOC=0)"
    assert untuned["faults"] > 1000


@pytest.mark.skipif(not GLIBC, reason="the setting is glibc's")
@pytest.mark.parametrize("variable, value", [("MALLOC_TRIM_THRESHOLD_", "1000000"),
                                             ("MALLOC_TOP_PAD_", "0"),
                                             ("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=0"),
                                             ("LD_PRELOAD", "/nowhere/libjemalloc.so")])
def test_the_users_own_malloc_settings_are_kept(variable, value):
    assert _rounds(**{variable: value})["malloc"].startswith("left as it is")


def test_tune_malloc_runs_once_and_reports_it():
    first = host_memory.tune_malloc()
    assert first != "not tuned yet" and host_memory.malloc_settings() == first
    assert host_memory.tune_malloc() == first


def _settings_after(code: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "MINIGRAD_TUNE_MALLOC"}
    done = subprocess.run([sys.executable, "-c", code + "\nfrom minigrad.host_memory import "
                           "malloc_settings\nprint(malloc_settings())"], capture_output=True,
                          text=True, env=env, check=True)
    return done.stdout.splitlines()[-1]


def test_creating_backends_leaves_malloc_alone():
    devices = [d for d in ("numpy", "numba") if d in mg.devices()]
    code = f"import minigrad as mg\nfor d in {devices}: mg.zeros(3, device=d) + 1"
    assert _settings_after(code) == "not tuned yet"


@pytest.mark.parametrize("command", [
    ["train", "--data", "spirals", "--hidden", "4", "--epochs", "1", "--no-plot", "--quiet"],
    ["bench"],
])
def test_the_commands_tune_malloc(command, tmp_path):
    code = ("import os, minigrad.bench\n"
            "minigrad.bench.run_from_args = lambda args: 0  # the settings, not the timings\n"
            f"os.chdir({str(tmp_path)!r})\n"
            f"from minigrad.cli import main\nassert main({command}) == 0")
    assert _settings_after(code) != "not tuned yet"
