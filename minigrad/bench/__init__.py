"""``minigrad bench``: minigrad's backends, a hand-written NumPy program and PyTorch, timed
on the same workloads in the same process.

```python
from minigrad.bench import run_bench, format_table
result = run_bench(only=("mlp",), quick=True)   # a plain dict, the same as the JSON
print(format_table(result))
```

Workloads (``only=`` takes a group or a workload name):

- ``dispatch``: ``dispatch_fwd``, ``dispatch_fwd_bwd``: a chain of (add, multiply, tanh)
  on shape-(4,) float32 tensors, time per op;
- ``kernels``: ``matmul`` (512x512), ``elementwise`` (tanh((x + a) * m) on 2^20 floats),
  ``softmax_xent`` (cross-entropy of 512x1000 logits, forward and backward),
  ``optimizer_update`` (one step of the optimizer over 1M and 10M parameters);
- ``mlp``: ``mlp_step``: forward, loss, backward and optimizer step of each MLP;
- ``cnn``: ``lenet_step``: the same for LeNet-5 (28x28 images, batch 64, cross-entropy;
  no hand-written contender: that row reports it skipped, with why).

Contenders: ``minigrad[<device>]`` for every backend minigrad knows (those not usable here
are reported skipped, with why), ``numpy-handwritten`` (explicit passes into preallocated
buffers; its MLP step is checked against minigrad's before it is timed), ``torch[cpu]`` and
``torch[cuda]`` (skipped without PyTorch, or without a GPU).

The result dict (and JSON): ``schema``, ``created``, ``seconds``, ``environment`` (machine,
versions, BLAS and thread counts, relevant environment variables), ``settings`` (every
field of :class:`BenchConfig`, resolved, and the ``baselines``), ``contenders`` (name,
kind, describe, skip_reason) and ``results``: one row per workload, size and contender with
``workload``, ``group``, ``size``, ``unit``, ``items_per_call``, ``params``, ``contender``,
``status`` ("ok", "skipped" or "failed"), ``skip_reason``, ``median_s`` (seconds per unit),
``spread`` (``min_s``, ``max_s``, ``q1_s``, ``q3_s``, ``iqr_s``, ``mean_s``, ``stdev_s``),
``first_call_s`` (the whole first call, apart from the samples), ``samples_s``,
``calls_per_sample``, ``warmup_calls``, ``compile_s`` (JIT backends), ``threads``
(``counts`` per library, ``tuned``, and ``tried_s`` when the count was raced), ``notes`` (the
hand-written step's ``check``; PyTorch's ``optimizer``), ``baseline`` and ``ratio`` (median /
the baseline's median).
"""

from .config import BenchConfig, add_bench_arguments
from .contenders import HANDWRITTEN, discover
from .handwritten import (
    GradientMismatch,
    HandwrittenMLP,
    HandwrittenOptimizer,
    MLPProblem,
    check_handwritten_gradients,
)
from .report import SCHEMA, format_table, format_time, plot_mlp, write_json
from .runner import run_bench, run_from_args
from .workloads import (
    PROJECT_MODELS,
    LeNetProblem,
    lenet5,
    make_lenet_problem,
    make_mlp_problem,
    parse_model,
)

__all__ = [
    "BenchConfig", "GradientMismatch", "HANDWRITTEN", "HandwrittenMLP", "HandwrittenOptimizer",
    "LeNetProblem", "lenet5", "make_lenet_problem",
    "MLPProblem", "PROJECT_MODELS", "SCHEMA", "add_bench_arguments", "check_handwritten_gradients",
    "discover", "format_table", "format_time", "make_mlp_problem", "parse_model", "plot_mlp",
    "run_bench", "run_from_args", "write_json",
]
