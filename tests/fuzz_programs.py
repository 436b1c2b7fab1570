"""Random small programs of tensor ops, run in minigrad and in PyTorch and compared.

A program is a few lines of Python that read the same in both frameworks: ``{lib}`` is
``mg`` or ``torch`` and ``{F}`` is ``F`` (``minigrad.functional``) or ``TF``
(``torch.nn.functional``). It is generated against PyTorch, one op at a time: each
candidate line runs in torch first, so that its operands' shapes and values are known, and
is kept only when it is well conditioned (no near-tie of a max, no value within a small
margin of a kink of ``abs``, ``relu`` or ``clamp``, nothing overflowing). When torch raises
on a line, the line ends the program and minigrad must raise too.

The table ``OPS`` holds one ``OpSpec`` per op; a new op is one more entry.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import random
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import minigrad as mg
import minigrad.functional as F

try:  # the generator needs torch; the module imports without it so that pytest can skip
    import torch
    import torch.nn.functional as TF
except ImportError:  # pragma: no cover
    torch = TF = None

FLOATS = ("float16", "float32", "float64")


# ---------------------------------------------------------------------------------------
# values known while generating


@dataclass
class Var:
    """A value of the program: its name and its torch value (the reference)."""

    name: str
    value: Any

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.value.shape)

    @property
    def ndim(self) -> int:
        return self.value.ndim

    @property
    def dtype(self) -> str:
        return str(self.value.dtype).removeprefix("torch.")

    @property
    def is_float(self) -> bool:
        return self.value.dtype.is_floating_point


@dataclass
class Call:
    """One generated use of an op: the operands, the template fields and the op itself."""

    spec: OpSpec
    operands: list[Any]  # Var, or a Python scalar
    fields: dict[str, Any] = field(default_factory=dict)
    double: bool = False  # the program differentiates its gradient again
    special: bool = False  # the program's inputs hold NaN and infinities

    def describe(self) -> dict[str, Any]:
        """What a known-difference predicate looks at."""
        return {
            "op": self.spec.name,
            "dtypes": [o.dtype if isinstance(o, Var) else type(o).__name__
                       for o in self.operands],
            "shapes": [o.shape if isinstance(o, Var) else None for o in self.operands],
            "values": [o.value.detach() if isinstance(o, Var) else o for o in self.operands],
            "requires_grad": [isinstance(o, Var) and o.value.requires_grad
                              for o in self.operands],
            "double": self.double,
            "special": self.special,
            **self.fields,
        }


# ---------------------------------------------------------------------------------------
# the op table


Args = Callable[["Gen", list[Any], bool], "dict[str, Any] | None"]
Operands = Callable[["Gen", bool], "list[Any] | None"]
Hazard = Callable[["Gen", Call, Any], bool]


@dataclass(frozen=True)
class OpSpec:
    """One op: ``call`` is the line's right-hand side for both frameworks (``torch_call``
    where torch spells it differently), with ``{0}``, ``{1}``... for the operands and named
    fields from ``args``. ``domain`` maps an operand's position to a guard that keeps it in
    the op's domain (``"positive"``, ``"unit"`` for (0, 1), ``"nonzero"``).
    ``operands(gen, loose)`` picks operands (default: ``arity`` floats that broadcast);
    ``args(gen, operands, loose)`` the other arguments (None: the op does not apply);
    ``hazard(gen, call, operands)`` says when torch's operand values sit on a point where the
    two frameworks may legitimately differ. ``loose`` asks for arguments that may be invalid,
    to test that minigrad raises where torch raises."""

    name: str
    arity: int
    call: str
    torch_call: str | None = None
    domain: dict[int, str] = field(default_factory=dict)
    differentiable: bool = True
    operands: Operands | None = None
    args: Args | None = None
    hazard: Hazard | None = None
    scalars: bool = False  # a Python scalar may stand for one operand
    floats_only: bool = True


GUARDS = {
    "positive": "({x} * {x} + 0.5)",
    "nonzero": "({x} * {x} + 0.5)",
    "unit": "{x}.sigmoid()",
}


def _dims(gen: Gen, ndim: int, loose: bool) -> int:
    if loose and gen.rng.random() < 0.3:
        return gen.rng.choice([ndim, -ndim - 1, ndim + 1])
    n = max(ndim, 1)
    return gen.rng.randrange(-n, n)


def _dim_args(gen: Gen, ops: list[Any], loose: bool, *, none: bool = True,
              tuples: bool = True, keepdim: bool = True) -> dict[str, Any]:
    """``dim`` (None, an int or a tuple, negative ones included) and ``keepdim``."""
    x = ops[0]
    r = gen.rng.random()
    if none and r < 0.2:
        dim = None
    elif tuples and r < 0.4 and x.ndim >= 1:
        k = gen.rng.randint(1, x.ndim)
        picked = gen.rng.sample(range(x.ndim), k)
        dim = tuple(d - x.ndim if gen.rng.random() < 0.3 else d for d in picked)
        if loose and gen.rng.random() < 0.3:
            dim = dim + (dim[0],)
    else:
        dim = _dims(gen, x.ndim, loose)
    out = {"dim": dim}
    if keepdim:
        out["keepdim"] = gen.rng.random() < 0.5
    return out


def _reduce_fields(gen: Gen, ops: list[Any], loose: bool) -> dict[str, Any]:
    f = _dim_args(gen, ops, loose)
    f["kw"] = "" if f["dim"] is None else f"dim={f['dim']!r}, keepdim={f['keepdim']}"
    return f


def _var_fields(gen: Gen, ops: list[Any], loose: bool) -> dict[str, Any]:
    f = _reduce_fields(gen, ops, loose)
    f["correction"] = gen.rng.choice([0, 1, 1, 2])
    sep = ", " if f["kw"] else ""
    f["kw"] = f"{f['kw']}{sep}correction={f['correction']}"
    return f


def _one_dim(gen: Gen, ops: list[Any], loose: bool) -> dict[str, Any]:
    return {"dim": _dims(gen, ops[0].ndim, loose)}


def _one_dim_keepdim(gen: Gen, ops: list[Any], loose: bool) -> dict[str, Any]:
    return {"dim": _dims(gen, ops[0].ndim, loose), "keepdim": gen.rng.random() < 0.5}


def _scalar(gen: Gen) -> Any:
    return gen.rng.choice([2, -1, 3, 0.5, -1.5, 2.25, 1e-3, True][: 7 if gen.rng.random() < 0.9
                                                                   else 8])


def _near(values: Any, points: Any, margin: float) -> bool:
    """Some value lies within ``margin`` of a point without being on it."""
    d = (values - points).abs()
    return bool(((d > 0) & (d < margin)).any())


def _kink_at(points: Callable[[Call], Sequence[float]], operand: int = 0) -> Hazard:
    def hazard(gen: Gen, call: Call, vals: Any) -> bool:
        x = vals[operand]
        return any(_near(x.detach().double(), p, gen.margin) for p in points(call))
    return hazard


def _pair_close(gen: Gen, call: Call, vals: Any) -> bool:
    a, b = (torch.as_tensor(v).double() if not isinstance(v, torch.Tensor) else v.detach().double()
            for v in vals[:2])
    try:
        return _near(a, b, gen.margin)
    except RuntimeError:
        return False


def _tie_hazard(gen: Gen, call: Call, vals: Any) -> bool:
    """Near ties of a max/min over the reduced dims (exact ties are shared alike)."""
    x = vals[0].detach().double()
    if x.numel() == 0:
        return False
    dim = call.fields.get("dim")
    if dim is None:
        top = x.max()
    else:
        try:
            top = x.amax(dim=dim, keepdim=True) if x.ndim else x
        except (RuntimeError, IndexError):
            return False
    bottom = x.amin(dim=dim, keepdim=True) if (dim is not None and x.ndim) else x.min()
    return _near(x, top, gen.margin) or _near(x, bottom, gen.margin)


def _broadcast_operands(gen: Gen, loose: bool, n: int = 2, scalars: bool = True) -> list[Any]:
    floats = [v for v in gen.vars if v.is_float] or gen.vars
    first = gen.rng.choice(floats)
    picked = [first]
    for _ in range(n - 1):
        fits = [v for v in gen.vars if loose or _broadcasts(first.shape, v.shape)]
        if scalars and gen.rng.random() < 0.25:
            picked.append(_scalar(gen))
        else:
            picked.append(gen.rng.choice(fits or [first]))
    if scalars and gen.rng.random() < 0.5:
        picked.reverse()
    return picked


def _broadcasts(a: Sequence[int], b: Sequence[int]) -> bool:
    return all(x == y or x == 1 or y == 1 for x, y in zip(reversed(a), reversed(b)))


def _unary(gen: Gen, loose: bool) -> list[Any]:
    floats = [v for v in gen.vars if v.is_float]
    return [gen.rng.choice(floats if floats and gen.rng.random() < 0.9 else gen.vars)]


def _same_shape_pair(gen: Gen, loose: bool) -> list[Any] | None:
    x = gen.rng.choice([v for v in gen.vars if v.is_float] or gen.vars)
    fits = [v for v in gen.vars if v.shape == x.shape and v.is_float] or [x]
    if loose and gen.rng.random() < 0.3:
        fits = gen.vars
    return [x, gen.rng.choice(fits)]


def _matmul_operands(gen: Gen, loose: bool) -> list[Any] | None:
    pairs = [(a, b) for a in gen.vars for b in gen.vars
             if a.is_float and b.is_float and 1 <= a.ndim <= 3 and 1 <= b.ndim <= 3
             and (loose or _matmul_fits(a.shape, b.shape))]
    return list(gen.rng.choice(pairs)) if pairs else None


def _matmul_fits(a: Sequence[int], b: Sequence[int]) -> bool:
    if a[-1] != b[0 if len(b) == 1 else -2]:
        return False
    return _broadcasts(a[:-2], b[:-2])


def _no_hazard_nonfinite(gen: Gen, call: Call, vals: Any) -> bool:
    return False


# movement arguments


def _factor_shape(gen: Gen, numel: int) -> tuple[int, ...]:
    """A random shape of ``numel`` elements, of 0 to 4 dims."""
    if numel == 0:
        return gen.rng.choice([(0,), (2, 0), (0, 3, 1)])
    factors = []
    n = numel
    for p in (2, 3, 5, 7):
        while n % p == 0:
            factors.append(p)
            n //= p
    if n > 1:
        factors.append(n)
    gen.rng.shuffle(factors)
    k = gen.rng.randint(1 if numel > 1 else 0, min(4, max(len(factors), 1)))
    shape = [1] * k
    for f in factors:
        shape[gen.rng.randrange(k)] *= f
    if k < 4 and gen.rng.random() < 0.3:
        shape.insert(gen.rng.randint(0, len(shape)), 1)
    return tuple(shape)


def _reshape_args(gen: Gen, ops: list[Any], loose: bool) -> dict[str, Any]:
    x = ops[0]
    shape = list(_factor_shape(gen, x.value.numel()))
    if shape and gen.rng.random() < 0.4 and x.value.numel() > 0:
        shape[gen.rng.randrange(len(shape))] = -1
    if loose and gen.rng.random() < 0.4:
        shape = shape + [gen.rng.choice([2, -1, 0, 3])]
    return {"shape": tuple(shape)}


def _transpose_args(gen: Gen, ops: list[Any], loose: bool) -> dict[str, Any]:
    return {"d0": _dims(gen, ops[0].ndim, loose), "d1": _dims(gen, ops[0].ndim, loose)}


def _permute_args(gen: Gen, ops: list[Any], loose: bool) -> dict[str, Any]:
    n = ops[0].ndim
    perm = [d - n if gen.rng.random() < 0.3 else d for d in gen.rng.sample(range(n), n)]
    if loose and gen.rng.random() < 0.5:
        perm = perm[:-1] if perm and gen.rng.random() < 0.5 else perm + [0]
    return {"perm": tuple(perm)}


def _squeeze_args(gen: Gen, ops: list[Any], loose: bool) -> dict[str, Any]:
    x = ops[0]
    r = gen.rng.random()
    if r < 0.3:
        return {"args": ""}
    if r < 0.5 and x.ndim >= 1:
        dims = tuple(gen.rng.sample(range(x.ndim), gen.rng.randint(1, x.ndim)))
        return {"args": repr(dims)}
    return {"args": str(_dims(gen, x.ndim, loose))}


def _unsqueeze_args(gen: Gen, ops: list[Any], loose: bool) -> dict[str, Any]:
    n = ops[0].ndim + 1
    d = gen.rng.randrange(-n, n)
    if loose and gen.rng.random() < 0.3:
        d = gen.rng.choice([n, -n - 1])
    return {"dim": d}


def _flatten_args(gen: Gen, ops: list[Any], loose: bool) -> dict[str, Any]:
    n = ops[0].ndim
    a, b = sorted((_dims(gen, n, False), _dims(gen, n, False)), key=lambda d: d % max(n, 1))
    if loose and gen.rng.random() < 0.4:
        a, b = b, a
    return {"start": a, "end": b}


def _expand_args(gen: Gen, ops: list[Any], loose: bool) -> dict[str, Any]:
    shape = [gen.rng.choice([2, 3]) if n == 1 and gen.rng.random() < 0.7 else
             (-1 if gen.rng.random() < 0.3 else n) for n in ops[0].shape]
    lead = [gen.rng.choice([1, 2]) for _ in range(gen.rng.randint(0, 4 - len(shape)))] \
        if len(shape) < 4 else []
    if loose and gen.rng.random() < 0.4:
        shape = [n + 1 if n > 1 else n for n in shape] if shape else [0]
    return {"shape": tuple(lead + shape)}


def _index_args(gen: Gen, ops: list[Any], loose: bool) -> dict[str, Any] | None:
    """A key of slices, ints, None, Ellipsis, int lists (repeats, negatives) and bool masks;
    ``kinds`` names each entry's kind (slice, int, none, ellipsis, adv)."""
    x = ops[0]
    rng = gen.rng
    key: list[str] = []
    kinds: list[str] = []
    dim = 0
    used_ellipsis = False
    advanced = 0
    while dim < x.ndim or (not key and rng.random() < 0.5):
        if dim >= x.ndim:
            kinds.append(rng.choice(["none", "ellipsis"]))
            key.append("None" if kinds[-1] == "none" else "...")
            break
        n = x.shape[dim]
        r = rng.random()
        if r < 0.35:
            start = rng.choice([None, rng.randint(-n - 1, n + 1)])
            stop = rng.choice([None, rng.randint(-n - 1, n + 1)])
            step = rng.choice([None, None, 1, 2, 3] + ([-1, 0] if loose else []))
            key.append(_slice_code(start, stop, step))
            kinds.append("slice" if step is None or step > 0 else "slice-step<=0")
        elif r < 0.5 and (n > 0 or loose):
            i = rng.randrange(-n, n) if n else 0
            if loose and rng.random() < 0.3:
                i = rng.choice([n, -n - 1])
            key.append(str(i))
            kinds.append("int")
        elif r < 0.58:
            key.append("None")
            kinds.append("none")
            continue
        elif r < 0.64 and not used_ellipsis:
            key.append("...")
            kinds.append("ellipsis")
            used_ellipsis = True
            dim = x.ndim - rng.randint(0, x.ndim - dim)
            continue
        elif r < 0.8 and advanced < 2 and (n > 0 or loose):
            k = rng.randint(1, 4)
            idx = [rng.randrange(-n, n) if n else 0 for _ in range(k)]
            if loose and rng.random() < 0.3:
                idx[0] = n
            key.append(f"{{lib}}.tensor({idx!r}{{dev}})" if rng.random() < 0.5 else repr(idx))
            kinds.append("adv")
            advanced += 1
        elif r < 0.9 and advanced < 2:
            mask = [rng.random() < 0.5 for _ in range(n + (1 if loose and rng.random() < 0.3
                                                           else 0))]
            key.append(f"{{lib}}.tensor({mask!r}{{dev}})")
            kinds.append("adv")
            advanced += 1
        else:
            key.append(":")
            kinds.append("slice")
        dim += 1
        if rng.random() < 0.3:
            break
    if not key:
        key, kinds = ["..."], ["ellipsis"]
    return {"key": ", ".join(key), "kinds": tuple(kinds)}


def _basic_index_args(gen: Gen, ops: list[Any], loose: bool) -> dict[str, Any] | None:
    """A key of slices, ints, None and Ellipsis only: its result is a view."""
    for _ in range(10):
        f = _index_args(gen, ops, loose)
        if f and "adv" not in f["kinds"]:
            return f
    return None


_INPLACE = ["mul_({s})", "add_({s})", "sub_({s})", "div_({s})", "zero_()", "fill_({s})",
            "clamp_(min={c})", "add_({s}, alpha={a})", "tanh_()", "sigmoid_()", "neg_()",
            "sin_()", "square_()"]


def _inplace_args(gen: Gen, ops: list[Any], loose: bool) -> dict[str, Any] | None:
    f = _basic_index_args(gen, ops, loose)
    if f is None:
        return None
    method = gen.rng.choice(_INPLACE)
    s = gen.rng.choice([2, -0.5, 1.5, 3])
    f["method"] = method.format(s=s, c=round(gen.rng.uniform(-0.5, 0.5), 2), a=-2)
    f["c"] = float(f["method"].split("min=")[1].rstrip(")")) if "min=" in f["method"] else None
    return f


def _setitem_args(gen: Gen, ops: list[Any], loose: bool) -> dict[str, Any] | None:
    f = _index_args(gen, ops, loose)
    if f is None or any(k == "adv" and "[" in part and "True" not in part and "False" not in part
                        for k, part in zip(f["kinds"], f["key"].split(", "))):
        return None  # repeated array indices: which write wins is not defined
    f["value"] = gen.rng.choice(["0.0", "-1.5", "2", "{1}"])
    return f


def _inplace_hazard(gen: Gen, call: Call, vals: Any) -> bool:
    c = call.fields.get("c")
    return c is not None and _near(vals[0].detach().double(), c, gen.margin)


def _slice_code(start: Any, stop: Any, step: Any) -> str:
    s = f"{'' if start is None else start}:{'' if stop is None else stop}"
    return s if step is None else f"{s}:{step}"


def _cat_operands(gen: Gen, loose: bool) -> list[Any] | None:
    x = gen.rng.choice([v for v in gen.vars if v.is_float] or gen.vars)
    if x.ndim == 0 and not loose:
        return None
    k = gen.rng.randint(1, 3)
    fits = [v for v in gen.vars if v.ndim == x.ndim and v.dtype == x.dtype
            and sum(a != b for a, b in zip(v.shape, x.shape)) <= 1]
    if loose:
        fits = gen.vars
    return [x] + [gen.rng.choice(fits) for _ in range(k - 1)]


def _cat_args(gen: Gen, ops: list[Any], loose: bool) -> dict[str, Any] | None:
    x = ops[0]
    diff = {i for v in ops for i, (a, b) in enumerate(zip(v.shape, x.shape)) if a != b}
    if len(diff) > 1 and not loose:
        return None
    dim = diff.pop() if diff else _dims(gen, x.ndim, loose)
    if diff == set() and gen.rng.random() < 0.3 and x.ndim:
        dim -= x.ndim
    return {"dim": dim, "list": ", ".join(f"{{{i}}}" for i in range(len(ops)))}


def _stack_operands(gen: Gen, loose: bool) -> list[Any] | None:
    x = gen.rng.choice([v for v in gen.vars if v.is_float] or gen.vars)
    fits = [v for v in gen.vars if v.shape == x.shape and v.dtype == x.dtype]
    if loose:
        fits = gen.vars
    return [x] + [gen.rng.choice(fits) for _ in range(gen.rng.randint(0, 2))]


def _stack_args(gen: Gen, ops: list[Any], loose: bool) -> dict[str, Any]:
    n = ops[0].ndim + 1
    d = gen.rng.randrange(-n, n)
    return {"dim": d, "list": ", ".join(f"{{{i}}}" for i in range(len(ops)))}


def _clamp_args(gen: Gen, ops: list[Any], loose: bool) -> dict[str, Any]:
    lo, hi = sorted(gen.rng.uniform(-1.5, 1.5) for _ in range(2))
    lo, hi = round(lo, 3), round(hi, 3)
    r = gen.rng.random()
    if r < 0.3:
        return {"kw": f"min={lo}", "lo": lo, "hi": None}
    if r < 0.5:
        return {"kw": f"max={hi}", "lo": None, "hi": hi}
    if r < 0.55:
        lo, hi = hi, lo  # min > max: PyTorch gives max everywhere
    return {"kw": f"min={lo}, max={hi}", "lo": lo, "hi": hi}


def _cond_code(gen: Gen, x: Var) -> tuple[str, float]:
    """A bool condition on ``x``, as code, and the threshold it compares to."""
    t = round(gen.rng.uniform(-0.5, 0.5), 2)
    return f"({{0}} > {t})", t


def _where_args(gen: Gen, ops: list[Any], loose: bool) -> dict[str, Any]:
    """The condition compares one operand that is a tensor to a threshold."""
    i = next(i for i, o in enumerate(ops) if isinstance(o, Var))
    code, t = _cond_code(gen, ops[i])
    return {"cond": code.replace("{0}", f"{{{i}}}"), "t": t, "on": i}


def _where_hazard(gen: Gen, call: Call, vals: Any) -> bool:
    return _near(vals[call.fields.get("on", 0)].detach().double(), call.fields["t"],
                 gen.margin)


def _masked_fill_args(gen: Gen, ops: list[Any], loose: bool) -> dict[str, Any]:
    code, t = _cond_code(gen, ops[0])
    return {"cond": code, "t": t, "value": gen.rng.choice([0.0, -1.5, 2, float("-inf")])}


def _leaky_args(gen: Gen, ops: list[Any], loose: bool) -> dict[str, Any]:
    return {"slope": gen.rng.choice([0.01, 0.2, -0.5])}


def _pow_args(gen: Gen, ops: list[Any], loose: bool) -> dict[str, Any]:
    return {"e": gen.rng.choice([2, 3, 0.5, -1, 1.5, -0.5, 0, 1])}


def _comparison(name: str, symbol: str) -> OpSpec:
    return OpSpec(name, 2, f"{{0}} {symbol} {{1}}", differentiable=False, scalars=True,
                  hazard=_pair_close, floats_only=False)


# losses: targets are constants written into the program


def _reduction(gen: Gen) -> str:
    return gen.rng.choice(["mean", "sum", "none"])


def _regression_args(gen: Gen, ops: list[Any], loose: bool) -> dict[str, Any]:
    return {"reduction": _reduction(gen), "delta": gen.rng.choice([1.0, 0.5, 2.0])}


def _class_operand(gen: Gen, loose: bool) -> list[Any] | None:
    fits = [v for v in gen.vars if v.is_float and 1 <= v.ndim <= 3 and v.shape[-1 if v.ndim == 1
                                                                               else 1] > 0]
    if loose:
        fits = fits or gen.vars
    return [gen.rng.choice(fits)] if fits else None


def _class_shape(x: Var) -> tuple[tuple[int, ...], int, int]:
    axis = 0 if x.ndim <= 1 else 1
    c = x.shape[axis] if x.ndim else 1
    return x.shape[:axis] + x.shape[axis + 1:], c, axis


def _list_code(values: np.ndarray) -> str:
    """Nested lists as code, NaN and infinities included."""
    return re.sub(r"\b(nan|inf)\b", r"float('\1')", repr(values.tolist()))


def _int_literal(values: Any) -> str:
    values = np.asarray(values, dtype=np.int64)
    if values.size == 0:
        return f"{{lib}}.zeros({values.shape!r}, dtype={{lib}}.int64{{dev}})"
    return f"{{lib}}.tensor({values.tolist()!r}, dtype={{lib}}.int64{{dev}})"


def _float_literal(values: Any, dtype: str) -> str:
    values = np.asarray(values)
    if values.size == 0:
        return f"{{lib}}.zeros({values.shape!r}, dtype={{lib}}.{dtype}{{dev}})"
    return f"{{lib}}.tensor({_list_code(values)}, dtype={{lib}}.{dtype}{{dev}})"


def _cross_entropy_args(gen: Gen, ops: list[Any], loose: bool) -> dict[str, Any]:
    x = ops[0]
    shape, c, _ = _class_shape(x)
    rng = gen.np_rng
    kw = [f"reduction={_reduction(gen)!r}"]
    if gen.rng.random() < 0.5:
        t = rng.integers(0, max(c, 1), size=shape)
        ignore = gen.rng.random() < 0.3
        if ignore and t.size:
            t.flat[0] = gen.rng.choice([-100, 0])
            kw.append(f"ignore_index={int(t.flat[0])}")
        if loose and gen.rng.random() < 0.3 and t.size:
            t.flat[-1] = c
        target = _int_literal(t)
    else:
        p = rng.random(x.shape)
        p = p / np.maximum(p.sum(axis=0 if x.ndim == 1 else 1, keepdims=True), 1e-9)
        target = _float_literal(p, x.dtype)
    if gen.rng.random() < 0.3:
        kw.append(f"weight={_float_literal(rng.uniform(0.5, 2, c), x.dtype)}")
    if gen.rng.random() < 0.3:
        kw.append(f"label_smoothing={gen.rng.choice([0.1, 0.5])}")
    return {"target": target, "kw": ", ".join(kw)}


def _nll_args(gen: Gen, ops: list[Any], loose: bool) -> dict[str, Any]:
    x = ops[0]
    shape, c, _ = _class_shape(x)
    t = gen.np_rng.integers(0, max(c, 1), size=shape)
    kw = [f"reduction={_reduction(gen)!r}"]
    if gen.rng.random() < 0.3:
        kw.append(f"weight={_float_literal(gen.np_rng.uniform(0.5, 2, c), x.dtype)}")
    if gen.rng.random() < 0.2 and t.size:
        t.flat[0] = 1 if c > 1 else 0
        kw.append("ignore_index=1")
    return {"target": _int_literal(t), "kw": ", ".join(kw)}


def _bce_args(gen: Gen, ops: list[Any], loose: bool) -> dict[str, Any]:
    x = ops[0]
    t = gen.np_rng.random(x.shape)
    if gen.rng.random() < 0.5:
        t = np.round(t)
    kw = [f"reduction={_reduction(gen)!r}"]
    if gen.rng.random() < 0.3:
        kw.append(f"weight={_float_literal(gen.np_rng.uniform(0.5, 2, x.shape), x.dtype)}")
    if gen.rng.random() < 0.3 and x.ndim and "logits" in gen.current:
        kw.append(f"pos_weight={_float_literal(gen.np_rng.uniform(0.5, 3, x.shape[-1]), x.dtype)}")
    return {"target": _float_literal(t, x.dtype), "kw": ", ".join(kw)}


def _hinge_args(gen: Gen, ops: list[Any], loose: bool) -> dict[str, Any]:
    x = ops[0]
    t = gen.np_rng.choice([-1.0, 1.0], size=x.shape)
    return {"target": _float_literal(t, x.dtype), "margin": gen.rng.choice([1.0, 0.5]),
            "reduction": _reduction(gen)}


def _hinge_hazard(gen: Gen, call: Call, vals: Any) -> bool:
    x = vals[0].detach().double()
    t = eval(call.fields["target"].format(lib="torch", dev="")).double()  # noqa: S307
    return _near(call.fields["margin"] - t * x, 0.0, gen.margin)


def _mm_operand(gen: Gen, loose: bool) -> list[Any] | None:
    fits = [v for v in gen.vars if v.is_float and v.ndim in (1, 2) and v.shape[-1] > 0
            and (v.ndim == 1 or v.shape[0] > 0)]
    return [gen.rng.choice(fits)] if fits else None


def _multi_margin_args(gen: Gen, ops: list[Any], loose: bool) -> dict[str, Any]:
    x = ops[0]
    c = x.shape[-1] if x.ndim else 1
    t = gen.np_rng.integers(0, max(c, 1), size=x.shape[:-1])
    kw = [f"reduction={_reduction(gen)!r}", f"p={gen.rng.choice([1, 2])}",
          f"margin={gen.rng.choice([1.0, 0.5])}"]
    return {"target": _int_literal(t), "kw": ", ".join(kw), "t": t}


def _multi_margin_hazard(gen: Gen, call: Call, vals: Any) -> bool:
    x = vals[0].detach().double()
    t = torch.as_tensor(call.fields["t"])
    margin = float(call.fields["kw"].split("margin=")[1])
    picked = x.gather(-1, t.unsqueeze(-1)) if x.ndim == 2 else x[t]
    return _near(margin - picked + x, 0.0, gen.margin)


def _l1_hazard(gen: Gen, call: Call, vals: Any) -> bool:
    return _pair_close(gen, call, vals)


def _huber_hazard(gen: Gen, call: Call, vals: Any) -> bool:
    d = (vals[0].detach().double() - vals[1].detach().double()).abs()
    return _near(d, call.fields["delta"], gen.margin) or _near(d, 0.0, gen.margin)


OPS: list[OpSpec] = [
    # arithmetic, with broadcasting and Python scalars on either side
    OpSpec("add", 2, "{0} + {1}", scalars=True, floats_only=False),
    OpSpec("sub", 2, "{0} - {1}", scalars=True, floats_only=False),
    OpSpec("mul", 2, "{0} * {1}", scalars=True, floats_only=False),
    OpSpec("truediv", 2, "{0} / {1}", domain={1: "nonzero"}, scalars=True, floats_only=False),
    OpSpec("pow", 2, "{0} ** {1}", domain={0: "positive"}, scalars=True, floats_only=False),
    OpSpec("pow_scalar", 1, "{0} ** {e}", domain={0: "positive"}, args=_pow_args),
    OpSpec("rpow", 1, "2.0 ** {0}"),
    OpSpec("neg", 1, "-{0}", floats_only=False),
    OpSpec("maximum", 2, "{lib}.maximum({0}, {1})", hazard=_pair_close, floats_only=False),
    OpSpec("minimum", 2, "{lib}.minimum({0}, {1})", hazard=_pair_close, floats_only=False),
    # unary math
    OpSpec("exp", 1, "{0}.exp()", floats_only=False),
    OpSpec("log", 1, "{0}.log()", domain={0: "positive"}),
    OpSpec("sqrt", 1, "{0}.sqrt()", domain={0: "positive"}, floats_only=False),
    OpSpec("abs", 1, "{0}.abs()", hazard=_kink_at(lambda c: [0.0]), floats_only=False),
    OpSpec("tanh", 1, "{0}.tanh()"),
    OpSpec("sigmoid", 1, "{0}.sigmoid()", floats_only=False),
    OpSpec("relu", 1, "{0}.relu()", hazard=_kink_at(lambda c: [0.0])),
    OpSpec("square", 1, "{0}.square()"),
    OpSpec("leaky_relu", 1, "{F}.leaky_relu({0}, {slope})", args=_leaky_args,
           hazard=_kink_at(lambda c: [0.0])),
    OpSpec("clamp", 1, "{0}.clamp({kw})", args=_clamp_args,
           hazard=_kink_at(lambda c: [p for p in (c.fields["lo"], c.fields["hi"])
                                      if p is not None])),
    OpSpec("mg.clamp", 1, "{lib}.clamp({0}, {kw})", args=_clamp_args,
           hazard=_kink_at(lambda c: [p for p in (c.fields["lo"], c.fields["hi"])
                                      if p is not None])),
    OpSpec("softmax", 1, "{0}.softmax({dim})", args=_one_dim),
    OpSpec("log_softmax", 1, "{F}.log_softmax({0}, dim={dim})", args=_one_dim),
    OpSpec("log1p", 1, "{0}.log1p()", domain={0: "positive"}),
    OpSpec("expm1", 1, "{lib}.expm1({0})"),
    OpSpec("rsqrt", 1, "{0}.rsqrt()", domain={0: "positive"}, floats_only=False),
    OpSpec("asinh", 1, "{0}.asinh()"),
    OpSpec("erfc", 1, "{lib}.erfc({0})"),
    OpSpec("logit", 1, "{0}.logit()", domain={0: "unit"}),
    OpSpec("hypot", 2, "{0}.hypot({1})"),
    OpSpec("logaddexp", 2, "{lib}.logaddexp({0}, {1})"),
    OpSpec("xlogy", 2, "{lib}.xlogy({0}, {1})", domain={1: "positive"}),
    OpSpec("fmax", 2, "{lib}.fmax({0}, {1})", hazard=_pair_close, floats_only=False),
    OpSpec("fmin", 2, "{0}.fmin({1})", hazard=_pair_close, floats_only=False),
    OpSpec("double", 1, "{0}.double()", floats_only=False),
    OpSpec("float", 1, "{0}.float()", floats_only=False),
    # comparisons and where
    _comparison("lt", "<"), _comparison("le", "<="), _comparison("gt", ">"),
    _comparison("ge", ">="), _comparison("eq", "=="), _comparison("ne", "!="),
    OpSpec("where", 2, "{lib}.where({cond}, {0}, {1})", args=_where_args, scalars=True,
           hazard=_where_hazard),
    OpSpec("masked_fill", 1, "{0}.masked_fill({cond}, {value})", args=_masked_fill_args,
           hazard=_where_hazard),
    # reductions
    OpSpec("sum", 1, "{0}.sum({kw})", args=_reduce_fields, floats_only=False),
    OpSpec("mean", 1, "{0}.mean({kw})", args=_reduce_fields, floats_only=False),
    OpSpec("var", 1, "{0}.var({kw})", args=_var_fields),
    OpSpec("std", 1, "{0}.std({kw})", args=_var_fields),
    OpSpec("amax", 1, "{0}.amax({kw})", args=_reduce_fields, hazard=_tie_hazard, floats_only=False),
    OpSpec("amin", 1, "{0}.amin({kw})", args=_reduce_fields, hazard=_tie_hazard),
    OpSpec("max", 1, "{0}.max()", hazard=_tie_hazard, floats_only=False),
    OpSpec("min", 1, "{0}.min()", hazard=_tie_hazard),
    OpSpec("max_dim", 1, "{0}.max(dim={dim}, keepdim={keepdim})[0]",
           args=_one_dim_keepdim, hazard=_tie_hazard),
    OpSpec("logsumexp", 1, "{0}.logsumexp(dim={dim}, keepdim={keepdim})",
           args=lambda g, o, lo: _dim_args(g, o, lo, none=False)),
    OpSpec("argmax", 1, "{0}.argmax(dim={dim}, keepdim={keepdim})", args=_one_dim_keepdim,
           differentiable=False, hazard=_tie_hazard, floats_only=False),
    OpSpec("argmin", 1, "{0}.argmin(dim={dim}, keepdim={keepdim})", args=_one_dim_keepdim,
           differentiable=False, hazard=_tie_hazard),
    # matmul
    OpSpec("matmul", 2, "{0} @ {1}", operands=_matmul_operands),
    OpSpec("mg.matmul", 2, "{lib}.matmul({0}, {1})", operands=_matmul_operands),
    # movement
    OpSpec("reshape", 1, "{0}.reshape({shape!r})", args=_reshape_args, floats_only=False),
    OpSpec("view", 1, "{0}.view{shape!r}", args=_reshape_args),
    OpSpec("transpose", 1, "{0}.transpose({d0}, {d1})", args=_transpose_args),
    OpSpec("permute", 1, "{0}.permute{perm!r}", args=_permute_args),
    OpSpec("squeeze", 1, "{0}.squeeze({args})", args=_squeeze_args),
    OpSpec("unsqueeze", 1, "{0}.unsqueeze({dim})", args=_unsqueeze_args),
    OpSpec("flatten", 1, "{0}.flatten({start}, {end})", args=_flatten_args),
    OpSpec("expand", 1, "{0}.expand{shape!r}", args=_expand_args),
    OpSpec("expand_tuple", 1, "{0}.expand({shape!r})", args=_expand_args),
    OpSpec("T", 1, "{0}.T", args=lambda g, o, lo: {} if o[0].ndim <= 2 else None),
    OpSpec("getitem", 1, "{0}[{key}]", args=_index_args, floats_only=False),
    OpSpec("inplace_view", 1, "(_b := {0} * 1.0, _b[{key}].{method}, _b)[-1]",
           args=_inplace_args, hazard=_inplace_hazard, floats_only=False),
    OpSpec("setitem", 2, "(_b := {0} * 1.0, _b.__setitem__(({key},), {value}), _b)[-1]",
           args=_setitem_args, scalars=False, floats_only=False),
    OpSpec("cat", 1, "{lib}.cat([{list}], dim={dim})", operands=_cat_operands, args=_cat_args),
    OpSpec("stack", 1, "{lib}.stack([{list}], dim={dim})", operands=_stack_operands,
           args=_stack_args),
    # losses
    OpSpec("mse_loss", 2, "{F}.mse_loss({0}, {1}, reduction={reduction!r})",
           operands=_same_shape_pair, args=_regression_args),
    OpSpec("l1_loss", 2, "{F}.l1_loss({0}, {1}, reduction={reduction!r})",
           operands=_same_shape_pair, args=_regression_args, hazard=_l1_hazard),
    OpSpec("huber_loss", 2, "{F}.huber_loss({0}, {1}, reduction={reduction!r}, delta={delta})",
           operands=_same_shape_pair, args=_regression_args, hazard=_huber_hazard),
    OpSpec("cross_entropy", 1, "{F}.cross_entropy({0}, {target}, {kw})",
           operands=_class_operand, args=_cross_entropy_args),
    OpSpec("nll_loss", 1, "{F}.nll_loss({0}, {target}, {kw})", operands=_class_operand,
           args=_nll_args),
    OpSpec("binary_cross_entropy", 1, "{F}.binary_cross_entropy({0}, {target}, {kw})",
           domain={0: "unit"}, args=_bce_args),
    OpSpec("binary_cross_entropy_with_logits", 1,
           "{F}.binary_cross_entropy_with_logits({0}, {target}, {kw})", args=_bce_args),
    OpSpec("hinge_loss", 1,
           "{F}.hinge_loss({0}, {target}, margin={margin}, reduction={reduction!r})",
           torch_call="_hinge_loss({0}, {target}, {margin}, {reduction!r})",
           args=_hinge_args, hazard=_hinge_hazard),
    OpSpec("multi_margin_loss", 1, "{F}.multi_margin_loss({0}, {target}, {kw})",
           operands=_mm_operand, args=_multi_margin_args, hazard=_multi_margin_hazard),
]

OPS_BY_NAME = {op.name: op for op in OPS}


def _hinge_loss(scores: Any, target: Any, margin: float, reduction: str) -> Any:
    """The binary hinge loss in torch (it has no function of that name)."""
    loss = (margin - target * scores).relu()
    return {"mean": loss.mean, "sum": loss.sum, "none": lambda: loss}[reduction]()


# ---------------------------------------------------------------------------------------
# programs


@dataclass
class Line:
    """One line of a program: ``target = code`` (code with {lib}/{F} still to fill)."""

    target: str
    code: str
    torch_code: str
    uses: frozenset[str]
    op: str
    call: dict[str, Any]  # what known-difference predicates look at
    raises: str | None = None  # torch's exception class when the line is an error case


@dataclass
class Program:
    seed: int
    inputs: list[tuple[str, str]]  # (name, code)
    lines: list[Line]
    weighted: list[str]  # the float values the loss sums, each with its own weights
    dtype: str  # the least precise float dtype of the program: it sets the tolerance
    double: bool = False  # differentiate the gradient again (create_graph=True)

    def source(self, framework: str, device: str = "numpy") -> str:
        """The program as code for ``framework`` ("minigrad" or "torch")."""
        mgr = framework == "minigrad"
        fill = {"lib": "mg" if mgr else "torch", "F": "F" if mgr else "TF",
                "dev": f", device={device!r}" if mgr else ""}
        out = (["import minigrad as mg", "import minigrad.functional as F"] if mgr else
               ["import torch", "import torch.nn.functional as TF"])
        if not mgr and any(line.op == "hinge_loss" for line in self.lines):
            out.append("_hinge_loss = lambda s, t, m, r: getattr((m - t * s).relu(), "
                       "{'none': 'clone'}.get(r, r))()")
        for name, code in self.inputs:
            out.append(f"{name} = {code.format(**fill)}")
        for line in self.lines:
            code = (line.code if mgr else line.torch_code).format(**fill)
            out.append(f"{line.target} = {code}" + (f"  # torch raises {line.raises}"
                                                    if line.raises else ""))
        if self.weighted and not any(line.raises for line in self.lines):
            # weights that differ from element to element, so that every element's gradient
            # is tested: a smooth function of the (detached) value itself
            terms = " + ".join(f"({n} * (({n}.detach() - 0.3).tanh() + 0.5)).sum()"
                               for n in self.weighted)
            out.append(f"loss = {terms}")
            if self.double:
                leaves = [n for n, code in self.inputs if "requires_grad" in code]
                grad = "mg.grad" if mgr else "torch.autograd.grad"
                out.append(f"g = {grad}(loss, [{', '.join(leaves)}], create_graph=True)")
                out.append(f"loss2 = sum((gi * gi).sum() for gi in g) + ({leaves[0]} * "
                           f"{leaves[0]}).sum()")
                out.append("loss2.backward()")
            else:
                out.append("loss.backward()")
        return "\n".join(out)

    def without(self, target: str) -> Program | None:
        """This program less the line that makes ``target`` and every line that uses it."""
        gone = {target}
        kept = []
        for line in self.lines:
            if line.target in gone or line.uses & gone:
                gone.add(line.target)
            else:
                kept.append(line)
        if len(kept) == len(self.lines):
            return None
        used = set().union(*(line.uses for line in kept)) if kept else set()
        inputs = [(n, c) for n, c in self.inputs if n in used or n not in gone]
        weighted = [n for n in self.weighted if n not in gone]
        return Program(self.seed, inputs, kept, weighted, self.dtype,
                       self.double and bool(weighted))


class Gen:
    """Generates one program from a seed; ``skip(call)`` says when a call is a known
    difference to leave out."""

    def __init__(self, seed: int, skip: Callable[[dict[str, Any]], bool],
                 ops: Sequence[OpSpec] = OPS) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.np_rng = np.random.default_rng(seed)
        self.skip = skip
        self.ops = list(ops)
        self.vars: list[Var] = []
        self.current = ""
        self.dtype = self.rng.choice(["float32", "float64"] * 4 + ["float16"])
        self.special = self.rng.random() < 0.07  # inputs hold NaN and infinities
        self.double = self.rng.random() < 0.15  # the gradient is differentiated again
        self.margin = {"float16": 3e-2, "float32": 1e-3, "float64": 1e-6}[self.dtype]
        self.names = (f"v{i}" for i in itertools.count())
        self.env: dict[str, Any] = {"torch": torch, "TF": TF, "_hinge_loss": _hinge_loss}

    # inputs
    def _input_shapes(self) -> list[tuple[int, ...]]:
        rng = self.rng
        nd = rng.choice([0, 1, 1, 2, 2, 2, 3, 3, 4])
        base = [rng.choice([1, 2, 2, 3, 3, 4, 5]) for _ in range(nd)]
        if base and rng.random() < 0.08:
            base[rng.randrange(nd)] = 0
        shapes = []
        for _ in range(rng.choice([1, 2, 2, 3])):
            s = list(base)
            if s and rng.random() < 0.4:
                s = s[rng.randint(0, len(s)):]  # fewer leading dims
            s = [1 if rng.random() < 0.2 else n for n in s]
            shapes.append(tuple(s))
        return shapes

    def _make_input(self, shape: tuple[int, ...]) -> tuple[str, Var]:
        rng = self.rng
        r = rng.random()
        dtype = self.dtype
        if r < 0.06:
            dtype = rng.choice(["int64"] * 3 + ["int32"])
        elif r < 0.09:
            dtype = "bool"
        elif r < 0.14:
            dtype = rng.choice(["float32", "float64"])
        grad = dtype in FLOATS and rng.random() < 0.9
        name = next(self.names)
        req = ", requires_grad=True" if grad else ""
        dt = "bool" if dtype == "bool" else f"{{lib}}.{dtype}"
        if math.prod(shape) == 0:
            code = f"{{lib}}.zeros({shape!r}, dtype={dt}{{dev}}{req})"
        else:
            if dtype in ("int64", "int32"):
                values = self.np_rng.integers(-3, 4, size=shape)
            elif dtype == "bool":
                values = self.np_rng.random(shape) < 0.5
            else:
                values = np.round(self.np_rng.standard_normal(shape), 3)
                if self.special:
                    values.flat[rng.randrange(values.size)] = rng.choice(
                        [float("nan"), float("inf"), float("-inf")])
            code = f"{{lib}}.tensor({_list_code(values)}, dtype={dt}{{dev}}{req})"
        value = eval(code.format(lib="torch", dev=""), self.env)  # noqa: S307
        return code, Var(name, value)

    # ops
    def _try(self, spec: OpSpec, loose: bool) -> tuple[Call, str, str] | None:
        self.current = spec.name
        if spec.operands is not None:
            operands = spec.operands(self, loose)
        elif spec.arity == 1:
            operands = _unary(self, loose)
        else:
            operands = _broadcast_operands(self, loose, spec.arity, spec.scalars)
        if not operands:
            return None
        if spec.floats_only and not all(
                o.is_float for o in operands if isinstance(o, Var)):
            return None
        try:
            fields = spec.args(self, operands, loose) if spec.args else {}
        except (IndexError, ValueError):  # loose operands an argument maker cannot take
            if not loose:
                raise
            return None
        if fields is None:
            return None
        call = Call(spec, operands, fields, self.double, self.special)
        if self.skip(call.describe()):
            return None
        args = []
        for i, o in enumerate(operands):
            code = o.name if isinstance(o, Var) else repr(o)
            if i in spec.domain and isinstance(o, Var):
                code = GUARDS[spec.domain[i]].format(x=code)
            elif i in spec.domain and not isinstance(o, (bool, str)):
                code = repr(abs(o) + 0.5)
            args.append(code)
        texts = []
        for template in (spec.call, spec.torch_call or spec.call):
            code = template.format(*args, **{k: v for k, v in fields.items()},
                                   lib="{lib}", F="{F}", dev="{dev}")
            nested = re.search(r"\{\d+\}", code)  # operands inside a field (cat's list)
            texts.append(code.format(*args, lib="{lib}", F="{F}", dev="{dev}") if nested
                         else code)
        return call, texts[0], texts[1]

    def _run_torch(self, code: str) -> Any:
        with _quiet():
            return eval(code.format(lib="torch", F="TF", dev=""), self.env)  # noqa: S307

    def generate(self, n_ops: int | None = None) -> Program:
        rng = self.rng
        inputs = []
        for shape in self._input_shapes():
            code, var = self._make_input(shape)
            inputs.append((var.name, code))
            self.env[var.name] = var.value
            self.vars.append(var)
        lines: list[Line] = []
        n_ops = rng.randint(1, 8) if n_ops is None else n_ops
        attempts = 0
        while len(lines) < n_ops and attempts < 60 * n_ops:
            attempts += 1
            spec = rng.choice(self.ops)
            loose = rng.random() < 0.04
            made = self._try(spec, loose)
            if made is None:
                continue
            call, code, torch_code = made
            uses = frozenset(o.name for o in call.operands if isinstance(o, Var))
            try:
                vals = [self._guarded_value(call, i, o) for i, o in enumerate(call.operands)]
                value = self._run_torch(torch_code)
            except NotImplementedError:  # a gap of torch's (float16 kernels), not an error case
                continue
            except Exception as err:  # noqa: BLE001  (every other torch error is an error case)
                described = {**call.describe(), "raises": type(err).__name__}
                if not loose or self.skip(described):
                    continue
                lines.append(Line(next(self.names), code, torch_code, uses, spec.name,
                                  described, raises=type(err).__name__))
                break
            if loose and not self._sane(value):
                continue
            if not isinstance(value, torch.Tensor) or not self._sane(value):
                continue
            if spec.hazard is not None and spec.hazard(self, call, vals):
                continue
            var = Var(next(self.names), value)
            self.env[var.name] = value
            self.vars.append(var)
            lines.append(Line(var.name, code, torch_code, uses, spec.name, call.describe()))
        raised = any(line.raises for line in lines)
        weighted = [v.name for v in self.vars
                    if not raised and v.is_float and v.value.requires_grad]
        floats = [v.dtype for v in self.vars if v.is_float]
        if any(not v.is_float for v in self.vars):
            floats.append("float32")  # ints and bools meet floats in float32 (a guard's 0.5)
        dtype = min(floats, key=FLOATS.index) if floats else "float64"
        program = Program(self.seed, inputs, lines, weighted, dtype,
                          self.double and bool(weighted))
        if program.double and run(program, "torch")[1] is not None:
            program.double = False  # torch has no double backward for one of the ops
        while not raised and program.lines and not self._backward_sane(program):
            program = program.without(program.lines[-1].target)
        return program

    def _backward_sane(self, program: Program) -> bool:
        """torch's backward runs, and (with finite inputs) its gradients do not overflow."""
        env, err = run(program, "torch")
        if err is not None:
            return False
        grads = [env[name].grad for name, _ in program.inputs]
        return self.special or all(g is None or bool(torch.isfinite(g).all()) for g in grads)

    def _guarded_value(self, call: Call, i: int, o: Any) -> Any:
        if not isinstance(o, Var):
            return o
        if i in call.spec.domain:
            return self._run_torch(GUARDS[call.spec.domain[i]].format(x=o.name))
        return o.value

    def _sane(self, value: Any) -> bool:
        """Finite and of moderate size: a program stays where both frameworks agree."""
        if not isinstance(value, torch.Tensor):
            return False
        if not value.dtype.is_floating_point:
            return True
        v = value.detach()
        if self.special:
            return True
        limit = {"float16": 1e3}.get(str(v.dtype).removeprefix("torch."), 1e6)
        return bool(torch.isfinite(v).all()) and bool((v.abs() <= limit).all())


# ---------------------------------------------------------------------------------------
# running and comparing


@dataclass
class Mismatch:
    kind: str  # value, gradient, dtype, shape, raises, exception-type, no-raise
    where: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind} difference at {self.where}: {self.detail}"


def run(program: Program, framework: str, device: str = "numpy") -> tuple[dict, Exception | None]:
    """Executes the program line by line; returns its namespace and the error it raised."""
    env: dict[str, Any] = {}
    src = program.source(framework, device)
    if framework == "torch":
        env["_hinge_loss"] = _hinge_loss
    for i, stmt in enumerate(src.splitlines()):
        try:
            with _quiet() if framework == "torch" else contextlib.nullcontext():
                exec(stmt, env)  # noqa: S102
        except Exception as err:  # noqa: BLE001
            env["__failed__"] = stmt
            env["__line__"] = stmt.split(" = ")[0] if " = " in stmt else i
            return env, err
    return env, None


@contextlib.contextmanager
def _quiet() -> Any:
    """Silences torch's deprecation and degrees-of-freedom warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def tolerance(program: Program) -> tuple[float, float]:
    """rtol for values and for gradients, by dtype and program length."""
    n = max(len(program.lines), 1)
    base = {"float16": 2e-3, "float32": 2e-5, "float64": 1e-9}[program.dtype]
    return base * (1 + n), base * (2 + 2 * n)


def _as_numpy(v: Any) -> np.ndarray:
    if isinstance(v, torch.Tensor):
        return v.detach().cpu().numpy()
    return np.asarray(v.numpy() if hasattr(v, "numpy") else v)


def _dtype_name(v: Any) -> str:
    if isinstance(v, torch.Tensor):
        return str(v.dtype).removeprefix("torch.")
    return str(v.dtype)


def _close(a: np.ndarray, b: np.ndarray, rtol: float) -> str | None:
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    if a.size == 0:
        return None
    scale = max(float(np.nanmax(np.abs(np.where(np.isfinite(b), b, 0)))), 1.0)
    ok = np.isclose(a, b, rtol=rtol, atol=rtol * scale, equal_nan=True)
    if ok.all():
        return None
    i = np.unravel_index(np.argmax(~ok), ok.shape)
    return f"minigrad {a[i]!r} vs torch {b[i]!r} at {tuple(int(k) for k in i)}"


def compare(program: Program, device: str = "numpy",
            known_error_class: Callable[[dict[str, Any]], bool] = lambda call: False,
            ) -> list[Mismatch]:
    """Every difference between minigrad and torch on this program; where
    ``known_error_class(call)`` holds for the line torch raises on, minigrad may raise
    another class."""
    ref, ref_err = run(program, "torch")
    out, err = run(program, "minigrad", device)
    mismatches: list[Mismatch] = []
    if ref_err is not None and not any(line.raises for line in program.lines):
        raise AssertionError(f"torch raised on a program generated to run: {ref_err!r}")
    if ref_err is not None:
        if err is None:
            return [Mismatch("no-raise", ref["__failed__"], f"torch raises {ref_err!r}")]
        if out.get("__line__") != ref["__line__"]:
            return [Mismatch("raises", out["__failed__"], f"{err!r}")]
        failed = program.lines[-1].call
        if not _same_error_class(err, ref_err) and not known_error_class(failed):
            return [Mismatch("exception-type", ref["__failed__"],
                             f"minigrad raises {type(err).__name__}({err}), torch "
                             f"{type(ref_err).__name__}")]
        return []
    if err is not None:
        return [Mismatch("raises", out["__failed__"], f"{type(err).__name__}: {err}")]
    rtol, grad_rtol = tolerance(program)
    names = [n for n, _ in program.inputs] + [line.target for line in program.lines]
    if program.double:
        for i, _ in enumerate(ref["g"]):
            out[f"g[{i}]"], ref[f"g[{i}]"] = out["g"][i], ref["g"][i]
            names.append(f"g[{i}]")
    for name in names:
        a, b = out[name], ref[name]
        if _dtype_name(a) != _dtype_name(b):
            mismatches.append(Mismatch("dtype", name, f"minigrad {_dtype_name(a)}, torch "
                                                      f"{_dtype_name(b)}"))
            continue
        if tuple(a.shape) != tuple(b.shape):
            mismatches.append(Mismatch("shape", name, f"minigrad {tuple(a.shape)}, torch "
                                                      f"{tuple(b.shape)}"))
            continue
        bad = _close(_as_numpy(a), _as_numpy(b), rtol)
        if bad:
            mismatches.append(Mismatch("value", name, bad))
    if mismatches:
        return mismatches
    for name, _ in program.inputs:
        ga, gb = out[name].grad, ref[name].grad
        if (ga is None) != (gb is None):
            mismatches.append(Mismatch("gradient", f"{name}.grad",
                                       f"minigrad {ga}, torch {gb}"))
        elif ga is not None:
            if tuple(ga.shape) != tuple(gb.shape) or _dtype_name(ga) != _dtype_name(gb):
                mismatches.append(Mismatch("gradient", f"{name}.grad",
                                           f"minigrad {_dtype_name(ga)}{tuple(ga.shape)}, "
                                           f"torch {_dtype_name(gb)}{tuple(gb.shape)}"))
                continue
            bad = _close(_as_numpy(ga), _as_numpy(gb), grad_rtol)
            if bad:
                mismatches.append(Mismatch("gradient", f"{name}.grad", bad))
    return mismatches


def _same_error_class(err: Exception, ref: Exception) -> bool:
    """minigrad may raise a subclass of torch's class; for torch's RuntimeError a
    ValueError also does (the contract allows it)."""
    if isinstance(err, type(ref)):
        return True
    return type(ref) is RuntimeError and isinstance(err, ValueError)


def shrink(program: Program, device: str = "numpy",
           known_error_class: Callable[[dict[str, Any]], bool] = lambda call: False) -> Program:
    """Drops lines while the program still fails."""
    changed = True
    while changed:
        changed = False
        for line in reversed(program.lines):
            smaller = program.without(line.target)
            if smaller is None or not smaller.lines:
                continue
            try:
                still = compare(smaller, device, known_error_class)
            except AssertionError:
                continue
            if still:
                program = smaller
                changed = True
                break
    return program


def report(program: Program, mismatches: list[Mismatch], device: str) -> str:
    """A copy-pasteable repro: the seed, what differs, the program in both frameworks."""
    lines = "\n".join(str(m) for m in mismatches)
    return (f"--- seed {program.seed} on {device} ({program.dtype}):\n{lines}\n"
            f"# minigrad\n{program.source('minigrad', device)}\n"
            f"# torch\n{program.source('torch')}\n")


def fuzz(seed: int, device: str, skip: Callable[[dict[str, Any]], bool],
         known_error_class: Callable[[dict[str, Any]], bool] = lambda call: False) -> str | None:
    """Generates, runs and compares one program; a repro of the shrunk program on failure.
    ``skip(call)`` leaves out the calls that differ today, ``known_error_class(call)`` the
    error cases where minigrad raises another exception class than torch."""
    program = Gen(seed, skip).generate()
    mismatches = compare(program, device, known_error_class)
    if not mismatches:
        return None
    small = shrink(program, device, known_error_class)
    return report(small, compare(small, device, known_error_class) or mismatches, device)


__all__ = ["OPS", "OpSpec", "Gen", "Program", "compare", "fuzz", "report", "shrink", "mg", "F"]
