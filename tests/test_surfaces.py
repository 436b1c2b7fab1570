"""examples/surfaces.py: the optimizer paths are the optimizers' own steps, on surfaces
that are what they say."""

import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
import surfaces  # noqa: E402


def test_gradient_descent_path_is_the_closed_form():
    quadratic = surfaces.test_functions["quadratic"]  # 0.5 x^2 + 10 y^2
    lr, steps = 0.02, 30
    path = surfaces.optimizer_paths(quadratic.f, (2.0, -1.0), {"gd": lambda p: optim.SGD(p, lr=lr)},
                               steps)["gd"]
    t = np.arange(steps + 1)[:, None]
    expected = np.array([2.0, -1.0]) * (1 - lr * np.array([1.0, 20.0])) ** t
    assert path.shape == (steps + 1, 2)
    np.testing.assert_allclose(path, expected, rtol=1e-12)


@pytest.mark.parametrize("key", sorted(surfaces.test_functions))
def test_paths_are_the_optimizers_own_steps(key):
    surface = surfaces.test_functions[key]
    steps = 25
    makers = surface.optimizers(seed=3)
    paths = surfaces.optimizer_paths(surface.f, surface.start, makers, steps)
    assert list(paths) == ["gradient descent", "SGD + gradient noise", "momentum 0.9",
                           "Nesterov 0.9", "RMSprop", "Adam"]
    for name, make in makers.items():
        p = mg.tensor(surface.start, dtype=mg.float64, requires_grad=True)
        opt = make([p])
        points = [p.numpy().copy()]
        for _ in range(steps):
            opt.zero_grad()
            surface.f(p[0], p[1]).backward()
            opt.step()
            points.append(p.numpy().copy())
        assert paths[name].shape == (steps + 1, 2)
        np.testing.assert_array_equal(paths[name], np.array(points), err_msg=name)
        assert not np.array_equal(paths[name][-1], paths[name][0]), name
    ends = {tuple(path[-1]) for path in paths.values()}
    assert len(ends) == len(paths)  # six different optimizers, six different end points


def test_gradient_noise_is_seeded_noise_on_the_gradient():
    f, start = surfaces.rosenbrock, (-1.2, 1.0)

    def noisy(std, seed):
        return lambda p: surfaces.GradientNoise(optim.SGD(p, lr=1e-3), std, seed)

    runs = surfaces.optimizer_paths(f, start, {"a": noisy(5.0, 0), "b": noisy(5.0, 0),
                                          "c": noisy(5.0, 1), "none": noisy(0.0, 0),
                                          "plain": lambda p: optim.SGD(p, lr=1e-3)}, 10)
    np.testing.assert_array_equal(runs["a"], runs["b"])
    assert not np.allclose(runs["a"], runs["c"])
    np.testing.assert_array_equal(runs["none"], runs["plain"])
    # the first step is -lr (grad + noise): the noise is the seeded generator's first draw
    grad = np.array([-2 * 2.2 - 400 * -1.2 * (1.0 - 1.44), 200 * (1.0 - 1.44)])
    noise = np.random.default_rng(0).normal(0.0, 5.0, size=2)
    np.testing.assert_allclose(runs["a"][1], np.array(start) - 1e-3 * (grad + noise),
                               rtol=1e-12)


def test_test_functions_are_what_they_say():
    for surface in surfaces.test_functions.values():
        (x0, x1), (y0, y1) = surface.xlim, surface.ylim
        assert x0 < surface.start[0] < x1 and y0 < surface.start[1] < y1
        assert surface.minima
        for point in surface.minima:
            p = mg.tensor(point, dtype=mg.float64, requires_grad=True)
            (g,) = mg.grad(surface.f(p[0], p[1]), p)
            np.testing.assert_allclose(g.numpy(), 0.0, atol=1e-9, err_msg=surface.name)
    assert surfaces.surface_values(surfaces.rosenbrock, 1.0, 1.0) == 0.0
    assert surfaces.surface_values(surfaces.saddle, 0.0, 2**0.5) == pytest.approx(-1.0)
    assert surfaces.saddle(0.0, 0.0) == 0.0


def test_diverging_run_ends_in_nan():
    paths = surfaces.optimizer_paths(surfaces.ill_conditioned_quadratic, (1.0, 1.0),
                                {"too fast": lambda p: optim.SGD(p, lr=0.5)}, 400)
    path = paths["too fast"]
    assert np.isfinite(path[0]).all() and np.isnan(path[-1]).all()


def test_plot_optimizer_paths_writes_png_and_gif(tmp_path):
    pytest.importorskip("matplotlib")
    results = surfaces.run_test_functions(steps=12)
    assert results.keys() == surfaces.test_functions.keys()
    out = surfaces.plot_optimizer_paths(results, tmp_path / "paths.png")
    assert out == str(tmp_path / "paths.png")
    assert (tmp_path / "paths.png").read_bytes().startswith(b"\x89PNG")
    one = {"saddle": results["saddle"]}
    surfaces.animate_optimizer_paths(one, tmp_path / "paths.gif", frames=3)
    from PIL import Image

    with Image.open(tmp_path / "paths.gif") as gif:
        assert gif.n_frames == 3
