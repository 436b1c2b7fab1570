"""minigrad.distributed: data-parallel training over MPI (mpiexec -n 2 from pytest)."""

import os
import shutil
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

pytest.importorskip("mpi4py")
if shutil.which("mpiexec") is None:
    pytest.skip("mpiexec is not on PATH (pip install mpich)", allow_module_level=True)

import minigrad as mg  # noqa: E402
from minigrad import nn, optim  # noqa: E402
from minigrad.distributed import DistributedSampler  # noqa: E402

TIMEOUT = 60
# Launcher variables that would make a child process think it is one rank of a job.
_LAUNCH_VARIABLES = ("PMI_SIZE", "PMI_RANK", "PMI_FD", "PMI_PORT", "PMI_ID",
                     "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE", "PMIX_SIZE")


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in _LAUNCH_VARIABLES}
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env.update(extra)
    return env


def _run(args, tmp_path, timeout=TIMEOUT):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=_env(),
                          cwd=tmp_path)


def _mpirun(tmp_path, source, n=2, timeout=TIMEOUT, **env):
    script = tmp_path / "job.py"
    script.write_text(textwrap.dedent(source))
    return subprocess.run(["mpiexec", "-n", str(n), sys.executable, str(script)],
                          capture_output=True, text=True, timeout=timeout, env=_env(**env),
                          cwd=tmp_path)


# The model, data and steps of the equivalence test, shared by the ranks and this process.
_SETUP = """
import numpy as np
import minigrad as mg
from minigrad import nn, optim
import minigrad.functional as F

def setup():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3))
    rng = np.random.default_rng(1)
    X = rng.normal(size=(32, 6)).astype(np.float32)
    y = rng.integers(0, 3, size=32)
    return model, X, y

def train(model, opt, X, y, steps=10, device="numpy"):
    for _ in range(steps):
        loss = F.cross_entropy(model(mg.tensor(X, device=device)), mg.tensor(y, device=device))
        opt.zero_grad()
        loss.backward()
        opt.step()
"""


# A stand-in for a GPU backend on the CPU: arrays MPI may take only when it is CUDA-aware.
_STAGED = """
import minigrad as mg
from minigrad.backends.numpy_backend import NumPyBackend

class Staged(NumPyBackend):
    host_memory = False
    synchronized = 0

    def synchronize(self):
        Staged.synchronized += 1

mg.register_backend("staged", Staged)
"""

# (device, MINIGRAD_MPI_CUDA_AWARE, the path gradient_path names)
_COPIED = "host memory (copied from the GPU)"
_PATHS = [(d, "", _COPIED if d == "cupy" else "host memory") for d in mg.devices()]
_PATHS += [("staged", "0", _COPIED), ("staged", "1", "GPU memory (CUDA-aware MPI)")]


@pytest.mark.parametrize("device, cuda_aware, path", _PATHS)
def test_two_ranks_on_halves_match_one_process_on_the_whole_batch(tmp_path, device,
                                                                  cuda_aware, path):
    (tmp_path / "common.py").write_text(_SETUP)
    (tmp_path / "staged.py").write_text(_STAGED)
    done = _mpirun(tmp_path, f"""
        import sys
        sys.path.insert(0, ".")
        import numpy as np
        import minigrad as mg
        import minigrad.distributed as dist
        from minigrad import optim
        from common import setup, train
        from staged import Staged

        dist.init()
        device = {device!r}
        if device != "cupy" or not dist.cuda_aware():  # a CUDA-aware MPI may say either
            assert dist.gradient_path(device) == {path!r}, dist.gradient_path(device)
        model, X, y = setup()
        if dist.rank() == 1:  # a different start, which broadcast_parameters must undo
            for p in model.parameters():
                p.data[...] = 0.5
        model.to(device)
        dist.broadcast_parameters(model)
        opt = dist.DistributedOptimizer(optim.Adam(model.parameters(), lr=0.05), bucket_bytes=256)
        half = slice(dist.rank() * 16, dist.rank() * 16 + 16)
        train(model, opt, X[half], y[half], device=device)
        assert opt.allreduce_calls > 10  # several buckets per step with 256-byte buckets
        assert all(p.device == mg.get_backend(device).name for p in model.parameters())
        assert all(p.grad.device == p.device for p in model.parameters())
        if device == "staged":  # a device-buffer path waits for the device before each call
            assert (Staged.synchronized > 0) == dist.cuda_aware()
        np.savez(f"rank{{dist.rank()}}.npz", *[p.numpy() for p in model.parameters()])
        assert dist.size() == 2
    """, MINIGRAD_MPI_CUDA_AWARE=cuda_aware)
    assert done.returncode == 0, done.stdout + done.stderr
    sys.path.insert(0, str(tmp_path))
    try:
        import common
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("common", None)
    model, X, y = common.setup()
    common.train(model, optim.Adam(model.parameters(), lr=0.05), X, y)
    expected = [p.numpy() for p in model.parameters()]
    moved = [p.numpy() for p in common.setup()[0].parameters()]
    assert not np.allclose(expected[0], moved[0])  # the steps did change the weights
    for r in (0, 1):
        with np.load(tmp_path / f"rank{r}.npz") as saved:
            got = [saved[f"arr_{i}"] for i in range(len(expected))]
        for a, b in zip(got, expected):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_all_reduce_sum_mean_max(tmp_path):
    done = _mpirun(tmp_path, """
        import numpy as np
        import minigrad as mg
        import minigrad.distributed as dist

        dist.init()
        r = dist.rank()
        x = mg.tensor(np.array([1.0, 2.0, -3.0], dtype=np.float32) * (r + 1))
        total = dist.all_reduce(x, op="sum")
        mean = dist.all_reduce(x, op="mean")
        most = dist.all_reduce(x, op="max")
        assert isinstance(total, mg.Tensor) and total.dtype == mg.float32
        np.testing.assert_allclose(total.numpy(), [3.0, 6.0, -9.0])
        np.testing.assert_allclose(mean.numpy(), [1.5, 3.0, -4.5])
        np.testing.assert_allclose(most.numpy(), [2.0, 4.0, -3.0])
        np.testing.assert_allclose(x.numpy(), np.array([1.0, 2.0, -3.0]) * (r + 1))
        plain = dist.all_reduce(np.arange(3.0) * (r + 1), op="sum")  # arrays give arrays
        assert isinstance(plain, np.ndarray) and plain.tolist() == [0.0, 3.0, 6.0]
        assert dist.local_rank() == r  # both ranks on this machine
        counts = dist.all_reduce(mg.tensor(np.array([r + 1, 10]), dtype=mg.int64), op="sum")
        assert counts.numpy().tolist() == [3, 20]
        try:
            dist.all_reduce(x, op="min")
        except ValueError as err:
            assert "sum, mean, max" in str(err)
        else:
            raise AssertionError("op='min' accepted")
        open(f"rank{r}.ok", "w").close()  # (the ranks' printed lines may interleave)
    """)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "rank0.ok").exists() and (tmp_path / "rank1.ok").exists()


@pytest.mark.parametrize("n, replicas", [(10, 3), (12, 4), (5, 8)])
def test_sampler_shares_are_disjoint_cover_the_data_and_reshuffle(n, replicas):
    data = list(range(n))
    samplers = [DistributedSampler(data, seed=7, num_replicas=replicas, rank=r)
                for r in range(replicas)]
    shares = [list(s) for s in samplers]
    per_rank = -(-n // replicas)
    assert all(len(s) == per_rank == len(share) for s, share in zip(samplers, shares))
    everything = [i for share in shares for i in share]
    assert set(everything) == set(range(n))  # covered
    assert len(everything) - len(set(everything)) == per_rank * replicas - n  # only padding
    first_epoch = samplers[0].indices()
    assert len(set(first_epoch[:n].tolist())) == n  # the first n positions: a permutation
    for s in samplers:
        s.set_epoch(1)
    assert not np.array_equal(samplers[0].indices(), first_epoch)
    again = DistributedSampler(data, seed=7, num_replicas=replicas, rank=1 % replicas)
    again.set_epoch(1)
    assert list(again) == list(samplers[1 % replicas])  # the same order on every rank


def test_sampler_without_shuffle_drop_last_and_with_a_loader():
    data = list(range(10))
    shares = [list(DistributedSampler(data, shuffle=False, num_replicas=3, rank=r))
              for r in range(3)]
    assert shares == [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]]
    dropped = [list(DistributedSampler(data, shuffle=False, num_replicas=3, rank=r,
                                       drop_last=True)) for r in range(3)]
    assert dropped == [[0, 3, 6], [1, 4, 7], [2, 5, 8]]
    with pytest.raises(ValueError, match="rank"):
        DistributedSampler(data, num_replicas=2, rank=2)
    X = np.arange(20, dtype=np.float32).reshape(10, 2)
    sampler = DistributedSampler(mg.data.TensorDataset(X), num_replicas=2, rank=1, seed=3)
    loader = mg.data.DataLoader(mg.data.TensorDataset(X), batch_size=2, sampler=sampler)
    rows = np.concatenate([b[0].numpy() for b in loader])
    assert rows.shape == (5, 2)
    np.testing.assert_array_equal(rows[:, 0] // 2, list(sampler))


def test_a_failing_rank_ends_the_job_fast(tmp_path):
    started = time.perf_counter()
    done = _mpirun(tmp_path, """
        import minigrad.distributed as dist
        from mpi4py import MPI

        dist.init()
        if dist.rank() == 1:
            raise RuntimeError("rank one gives up")
        MPI.COMM_WORLD.Barrier()  # rank 0 would wait here forever
    """)
    seconds = time.perf_counter() - started
    assert done.returncode != 0
    assert seconds < TIMEOUT / 2
    out = done.stdout + done.stderr
    assert "rank one gives up" in out and "[rank 1/2]" in out


def test_minigrad_train_on_two_ranks(tmp_path):
    out = tmp_path / "run"
    done = _run(["mpiexec", "-n", "2", sys.executable, "-m", "minigrad.cli", "train",
                 "--epochs", "3", "--data", "spirals", "--no-progress", "--no-plot",
                 "--out", str(out)], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert sum(line.startswith("epoch") for line in lines) == 3  # rank 0 alone prints
    assert sum(line.startswith("done in") for line in lines) == 1
    assert ("data parallel over 2 MPI processes; gradients averaged in host memory"
            in done.stdout)
    assert (out / "checkpoint.npz").exists() and (out / "metrics.json").exists()
    checkpoint = mg.load(out / "checkpoint.npz")
    assert int(checkpoint["epoch"]) == 3


def test_a_process_started_alone_is_a_job_of_one(tmp_path):
    done = _run([sys.executable, "-c", textwrap.dedent("""
        import sys
        import minigrad
        assert "mpi4py" not in sys.modules  # importing minigrad never imports MPI
        import minigrad.distributed as dist
        assert not dist.is_initialized()
        dist.init()
        assert dist.is_initialized() and (dist.rank(), dist.size()) == (0, 1)
        x = minigrad.tensor([1.0, 5.0])
        assert dist.all_reduce(x, op="sum").tolist() == [1.0, 5.0]
        print("job of one")
    """)], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "job of one" in done.stdout


def test_without_mpi4py_a_lone_process_works_and_a_rank_of_several_is_told(tmp_path):
    source = textwrap.dedent("""
        import sys
        sys.modules["mpi4py"] = None  # as if it were not installed
        import minigrad.distributed as dist
        dist.init()
        print("size", dist.size())
    """)
    alone = _run([sys.executable, "-c", source], tmp_path)
    assert alone.returncode == 0 and "size 1" in alone.stdout, alone.stderr
    told = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True,
                          timeout=TIMEOUT, env=_env(PMI_SIZE="2"), cwd=tmp_path)
    assert told.returncode != 0
    assert 'pip install "minigrad[distributed]"' in told.stderr


def test_distributed_optimizer_passes_through_in_a_job_of_one(monkeypatch):
    import minigrad.distributed as dist

    # A job of one without MPI in this process (sys.modules[...] = None: not importable).
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    for name in _LAUNCH_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    dist._reset()
    try:
        _check_pass_through(dist)
    finally:
        dist._reset()


def _check_pass_through(dist):
    dist.init()
    assert dist.size() == 1
    model = nn.Linear(3, 2)
    inner = optim.SGD(model.parameters(), lr=0.1)
    opt = dist.DistributedOptimizer(inner)
    assert opt.param_groups is inner.param_groups
    model(mg.ones(4, 3)).sum().backward()
    before = model.weight.numpy().copy()
    opt.step()
    np.testing.assert_allclose(model.weight.numpy(), before - 0.1 * 4)
    opt.zero_grad()
    assert model.weight.grad is None
    assert opt.state_dict() == inner.state_dict()
    with pytest.raises(ValueError, match="bucket_bytes"):
        dist.DistributedOptimizer(inner, bucket_bytes=0)


def test_cuda_awareness_is_asked_of_the_mpi_library(tmp_path, monkeypatch):
    import ctypes

    from mpi4py import MPI

    import minigrad.distributed as dist

    query = getattr(ctypes.CDLL(MPI.__file__), "MPIX_Query_cuda_support", None)
    expected = query is not None and query() == 1
    for name in _LAUNCH_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("MINIGRAD_MPI_CUDA_AWARE", raising=False)
    dist._reset()
    try:
        dist.init()
        assert dist.cuda_aware() is expected
        assert dist.gradient_path("numpy") == "host memory"
        monkeypatch.setenv("MINIGRAD_MPI_CUDA_AWARE", "1")
        assert dist.cuda_aware() is True
        monkeypatch.setenv("MINIGRAD_MPI_CUDA_AWARE", "0")
        assert dist.cuda_aware() is False
        assert dist._query_cuda_support(str(tmp_path / "no-such-library.so")) is False
        if "cupy" not in mg.devices():
            assert dist.select_gpu() is None
    finally:
        dist._reset()
