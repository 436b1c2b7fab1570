"""``mg.testing.assert_close`` passes and fails where ``torch.testing.assert_close`` does,
with the same kind of error and message."""

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")

NAN, INF = float("nan"), float("inf")

# (actual, expected, options); each side built once as minigrad and once as torch values
CASES = {
    "equal": ([1.0, 2.0], [1.0, 2.0], {}),
    "within float32 tolerance": ([1.0, 2.0], [1.0, 2.0 + 1e-6], {}),
    "beyond float32 tolerance": ([1.0, 2.0, 3.0], [1.0, 2.5, 3.0], {}),
    "float64 tolerance is tighter": ([1.0], [1.0 + 1e-6], {"dtype": "float64"}),
    "float16 tolerance is looser": ([1.0], [1.0005], {"dtype": "float16"}),
    "given tolerances": ([1.0], [1.1], {"rtol": 0.2, "atol": 0.0}),
    "rtol without atol": ([1.0], [1.0], {"rtol": 1e-3}),
    "nan against nan": ([NAN], [NAN], {}),
    "nan with equal_nan": ([NAN, 1.0], [NAN, 1.0], {"equal_nan": True}),
    "nan against a number": ([NAN], [1.0], {}),
    "same infinities": ([INF, -INF], [INF, -INF], {}),
    "opposite infinities": ([INF], [-INF], {}),
    "shapes differ": ([1.0, 2.0], [1.0, 2.0, 3.0], {}),
    "dtypes differ": ([1.0], [1.0], {"expected_dtype": "float64"}),
    "dtypes differ, unchecked": ([1.0], [1.0], {"expected_dtype": "float64",
                                                "check_dtype": False}),
    "integers are exact": ([1, 2], [1, 3], {"dtype": "int64"}),
    "booleans": ([True, False], [True, True], {"dtype": "bool"}),
    "custom message": ([1.0], [2.0], {"msg": "they differ"}),
}


def _build(lib, values, dtype):
    return lib.tensor(values, dtype=getattr(lib, "bool" if lib is torch else "bool_")
                      if dtype == "bool" else getattr(lib, dtype))


def _run(lib, actual, expected, options):
    options = dict(options)
    dtype = options.pop("dtype", "float32")
    expected_dtype = options.pop("expected_dtype", dtype)
    check = torch.testing.assert_close if lib is torch else mg.testing.assert_close
    try:
        check(_build(lib, actual, dtype), _build(lib, expected, expected_dtype), **options)
    except (AssertionError, ValueError, TypeError) as err:
        return type(err), str(err)
    return None, ""


@pytest.mark.parametrize("name", CASES)
def test_passes_and_fails_as_pytorch(name):
    actual, expected, options = CASES[name]
    got, message = _run(mg, actual, expected, options)
    want, torch_message = _run(torch, actual, expected, options)
    assert got is want, (message, torch_message)
    if want is not None:  # the same first line, and the same counts and indices
        assert message.splitlines()[0] == torch_message.splitlines()[0].replace(
            "torch.Size([", "(").replace("])", ",)").replace("torch.", "minigrad.")
        for line in torch_message.splitlines()[1:]:
            if line.startswith("Mismatched"):
                assert line in message


def test_numbers_arrays_and_containers():
    check = mg.testing.assert_close
    check(1.0, 1.0 + 1e-9)
    check(np.ones(3), np.ones(3))
    check([mg.ones(2), {"a": mg.zeros(1)}], [mg.ones(2), {"a": mg.zeros(1)}])
    with pytest.raises(AssertionError, match=r"Expected 1.5 but got 1.0"):
        check(1.0, 1.5)
    with pytest.raises(AssertionError, match=r"\(d\)types do not match"):
        check(1, 1.0)
    with pytest.raises(TypeError, match="No comparison pair"):
        check(mg.tensor(1.0), 1.0)
    with pytest.raises(AssertionError, match=r"occurred for item \[1\]\['a'\]"):
        check([mg.ones(1), {"a": mg.ones(1)}], [mg.ones(1), {"a": mg.zeros(1)}])
    with pytest.raises(AssertionError, match="length of the sequences"):
        check([mg.ones(1)], [mg.ones(1), mg.ones(1)])
    with pytest.raises(AssertionError, match="keys of the mappings"):
        check({"a": 1.0}, {"b": 1.0})


def test_devices_must_match_unless_unchecked():
    others = [d for d in mg.devices() if d != "numpy"]
    if not others:
        pytest.skip("one device only")
    a, b = mg.ones(2), mg.ones(2, device=others[0])
    with pytest.raises(AssertionError, match="'device' do not match"):
        mg.testing.assert_close(a, b)
    mg.testing.assert_close(a, b, check_device=False)
