"""``minigrad train``: an MLP on a data set, end to end, with checkpoints and a plot."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import json
import sys
import time
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

import minigrad as mg

DATASETS = ("digits", "spirals", "moons", "regression", "mnist")
LOSSES = ("cross_entropy", "multi_margin", "hinge", "bce_with_logits", "mse", "l1", "huber")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu")
MODELS = ("mlp", "cnn")
IMAGE_SIDES = {"digits": 8, "mnist": 28}  # the data sets whose rows are square images
REGRESSION_LOSSES = ("mse", "l1", "huber")
ADAPTIVE = ("adam", "adamw", "rmsprop")  # optimizers whose usual rate is 1e-3
MAX_SEED = 2**32 - 1

# A checkpoint's config defines the resumed run: these settings may not change ...
RUN_SETTINGS = ("data", "model", "hidden", "activation", "loss", "optimizer", "momentum",
                "weight_decay", "batch_size", "test_fraction", "seed")
# ... these may (the MNIST folder may have moved; the split of MNIST is its files').
ADJUSTABLE = ("epochs", "lr", "device", "out", "data_path", "compile")


class TrainingError(ValueError):
    """A setting or an input that a training run cannot use; the message names it."""


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped by Ctrl-C after saving what was done; the message says how to go on."""


@dataclasses.dataclass
class TrainConfig:
    """Everything a training run depends on; saved in its checkpoint."""

    data: str = "digits"
    data_path: str | None = None
    model: str = "mlp"
    hidden: tuple[int, ...] = (128,)
    activation: str = "relu"
    loss: str | None = None  # the data set's usual loss when None
    optimizer: str = "adam"
    lr: float | None = None  # the optimizer's usual rate when None
    momentum: float = 0.9
    weight_decay: float | None = None  # 0, or AdamW's usual 0.01, when None
    batch_size: int | None = 32  # None: the whole training set (full-batch)
    epochs: int = 30
    test_fraction: float = 0.2
    device: str = "numpy"
    seed: int = 0
    out: str = "runs/latest"
    resume: str | None = None
    compile: bool = True  # record the step once and replay it (mg.compile)
    plot: bool = True
    progress: bool = True
    quiet: bool = False

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> TrainConfig:
        return cls(**{k: v for k, v in vars(args).items() if k in _FIELDS})

    def __post_init__(self) -> None:
        # the settings left to their usual value, told apart from those given
        self._usual = frozenset(n for n in ("loss", "lr", "weight_decay")
                                if getattr(self, n) is None)
        _check_choice("--data", self.data, DATASETS)
        if self.loss is None:
            self.loss = "mse" if self.data == "regression" else "cross_entropy"
        _check_choice("--loss", self.loss, LOSSES)
        regression = self.data == "regression"
        if regression != (self.loss in REGRESSION_LOSSES):
            kind = "a regression" if regression else "a classification"
            raise TrainingError(f"--loss {self.loss} does not fit --data {self.data}, {kind} "
                                f"data set (regression takes {', '.join(REGRESSION_LOSSES)})")
        _check_choice("--optimizer", self.optimizer, OPTIMIZERS)
        _check_choice("--activation", self.activation, ACTIVATIONS)
        _check_choice("--model", self.model, MODELS)
        if self.model == "cnn" and self.data not in IMAGE_SIDES:
            raise TrainingError(f"--model cnn needs images: --data "
                                f"{' or '.join(IMAGE_SIDES)}, not {self.data}")
        if self.lr is None:
            self.lr = 1e-3 if self.optimizer in ADAPTIVE else 0.05
        if self.weight_decay is None:
            self.weight_decay = 1e-2 if self.optimizer == "adamw" else 0.0
        for flag, value in (("--lr", self.lr), ("--momentum", self.momentum),
                            ("--weight-decay", self.weight_decay)):
            if not value >= 0 or value == float("inf"):
                raise TrainingError(f"{flag} must be a finite number >= 0, got {value}")
        if self.epochs < 1:
            raise TrainingError(f"--epochs must be at least 1, got {self.epochs}")
        if self.batch_size is not None and self.batch_size < 1:
            raise TrainingError(f"--batch-size must be at least 1 (or 'full'), "
                                f"got {self.batch_size}")
        if not 0 < self.test_fraction < 1:
            raise TrainingError(f"--test-fraction must lie between 0 and 1, "
                                f"got {self.test_fraction}")
        if not 0 <= self.seed <= MAX_SEED:
            raise TrainingError(f"--seed must be between 0 and {MAX_SEED}, got {self.seed}")
        if self.data == "mnist" and not self.data_path:
            raise TrainingError("--data mnist needs --data-path, the folder with the MNIST "
                                "IDX files")
        if self.data != "mnist" and self.data_path:
            raise TrainingError(f"--data-path is read only with --data mnist; --data "
                                f"{self.data} is built in")
        self.hidden = tuple(int(n) for n in self.hidden)

    def given(self) -> set[str]:
        """The settings that differ from a default run's (for a config built in code)."""
        usual = TrainConfig()
        return {f for f in _FIELDS if f not in self._usual
                and getattr(self, f) != getattr(usual, f)}


_FIELDS = tuple(f.name for f in dataclasses.fields(TrainConfig))


def _check_choice(flag: str, value: str, choices: Iterable[str]) -> None:
    if value not in choices:
        raise TrainingError(f"{flag}: unknown choice {value!r}; choose from "
                            f"{', '.join(choices)}")


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``minigrad train``. None has a default in the namespace: an option
    left out is absent, so that ``--resume`` can tell the options given from the rest."""
    d = TrainConfig()
    add = parser.add_argument
    skip = argparse.SUPPRESS
    add("--data", choices=DATASETS, default=skip, help=f"data set (default: {d.data})")
    add("--data-path", metavar="FOLDER", default=skip,
        help="folder with the MNIST IDX files, plain or .gz (--data mnist only)")
    add("--model", choices=MODELS, default=skip,
        help=f"an MLP, or a small CNN (conv-BN-ReLU-pool x2 + linear) on the images of "
             f"digits or mnist (default: {d.model})")
    add("--hidden", type=_sizes, metavar="SIZES", default=skip,
        help="hidden layer sizes, comma separated, or 'none' "
             f"(default: {','.join(map(str, d.hidden))})")
    add("--activation", choices=ACTIVATIONS, default=skip,
        help=f"activation between the layers (default: {d.activation})")
    add("--loss", choices=LOSSES, default=skip,
        help="loss (default: cross_entropy; mse for --data regression)")
    add("--optimizer", choices=OPTIMIZERS, default=skip,
        help=f"optimizer (default: {d.optimizer})")
    add("--lr", type=float, default=skip,
        help="learning rate (default: 0.001 for adam, adamw and rmsprop; 0.05 for sgd, "
             "momentum and nesterov)")
    add("--momentum", type=float, default=skip,
        help=f"momentum of the momentum and nesterov optimizers (default: {d.momentum})")
    add("--weight-decay", type=float, default=skip,
        help="weight decay (default: 0; 0.01 for adamw)")
    add("--batch-size", type=_batch, metavar="N", default=skip,
        help=f"mini-batch size, or 'full' for full-batch gradient descent "
             f"(default: {d.batch_size})")
    add("--epochs", type=int, default=skip,
        help=f"epochs to train up to (default: {d.epochs}; with --resume, the checkpoint's)")
    add("--test-fraction", type=float, default=skip,
        help=f"share of the data held out for testing (default: {d.test_fraction})")
    add("--device", default=skip,
        help=f"numpy, numba or cupy (default: {d.device}; with --resume, the checkpoint's)")
    add("--seed", type=int, default=skip,
        help=f"seed of the weights, the split and the batch order (default: {d.seed})")
    add("--out", metavar="FOLDER", default=skip,
        help=f"folder for the checkpoint, the metrics and the plot (default: {d.out}; "
             "with --resume, the checkpoint's folder)")
    add("--resume", metavar="CHECKPOINT", default=skip,
        help="continue from this checkpoint; its settings define the run")
    add("--compile", action=argparse.BooleanOptionalAction, default=skip,
        help="record the training step once and replay it (mg.compile); a step it cannot "
             "replay runs eagerly, and the output says why (default: on; off under "
             "mpiexec)")
    add("--no-plot", dest="plot", action="store_false", default=skip,
        help="do not draw the loss and accuracy plot")
    add("--no-progress", dest="progress", action="store_false", default=skip,
        help="no progress bar (there is none when the output is not a terminal)")
    add("--quiet", action="store_true", default=skip, help="print only the final line")


def given_options(args: argparse.Namespace) -> set[str]:
    """The settings given on the command line (parsed by :func:`add_train_arguments`)."""
    return {k for k in vars(args) if k in _FIELDS}


def _sizes(text: str) -> tuple[int, ...]:
    if text.strip().lower() in ("", "none"):
        return ()
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected sizes like 128,64, got {text!r}") from None
    if any(n < 1 for n in sizes):
        raise argparse.ArgumentTypeError(f"layer sizes must be positive, got {text!r}")
    return sizes


def _batch(text: str) -> int | None:
    if text.lower() in ("full", "none"):
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer or 'full', got {text!r}") from None


def load_data(config: TrainConfig) -> tuple[np.ndarray, ...]:
    """(X_train, X_test, y_train, y_test) as NumPy arrays, split with the run's seed."""
    from .data import datasets

    if config.data == "digits":
        X, y = datasets.load_digits()
    elif config.data == "spirals":
        X, y = datasets.make_spirals(n_samples=600, seed=config.seed)
    elif config.data == "moons":
        X, y = datasets.make_moons(n_samples=600, noise=0.15, seed=config.seed)
    elif config.data == "regression":
        X, y = datasets.make_regression(n_samples=400, outliers=0.05, seed=config.seed)
    else:
        try:
            X_train, y_train = datasets.load_mnist(config.data_path, train=True)
            X_test, y_test = datasets.load_mnist(config.data_path, train=False)
        except (OSError, ValueError) as err:
            raise TrainingError(f"--data-path {config.data_path}: {err}") from err
        return X_train, X_test, y_train, y_test
    return datasets.train_test_split(X, y, test_size=config.test_fraction, seed=config.seed)


def build_model(config: TrainConfig, n_in: int, n_out: int) -> mg.nn.Module:
    """An MLP (Linear layers with the chosen activation between them), or the small CNN
    of ``nn.digits_cnn`` that first unflattens each row into a square image."""
    from . import nn

    if config.model == "cnn":
        side = IMAGE_SIDES[config.data]
        cnn = nn.digits_cnn(classes=n_out, size=side)
        return nn.Sequential(nn.Unflatten(1, (1, side, side)), *cnn).to(config.device)

    activations = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid,
                   "leaky_relu": nn.LeakyReLU}
    layers: list[nn.Module] = []
    width = n_in
    for size in config.hidden:
        layers += [nn.Linear(width, size), activations[config.activation]()]
        width = size
    layers.append(nn.Linear(width, n_out))
    return nn.Sequential(*layers).to(config.device)


def build_optimizer(config: TrainConfig, params: Any) -> mg.optim.Optimizer:
    from . import optim

    wd = config.weight_decay
    if config.optimizer == "sgd":
        return optim.SGD(params, lr=config.lr, weight_decay=wd)
    if config.optimizer in ("momentum", "nesterov"):
        return optim.SGD(params, lr=config.lr, momentum=config.momentum, weight_decay=wd,
                         nesterov=config.optimizer == "nesterov")
    if config.optimizer == "rmsprop":
        return optim.RMSprop(params, lr=config.lr, weight_decay=wd)
    if config.optimizer == "adamw":
        return optim.AdamW(params, lr=config.lr, weight_decay=wd)
    return optim.Adam(params, lr=config.lr, weight_decay=wd)


def _loss_fn(config: TrainConfig) -> Any:
    from . import functional as F

    def binary_target(y: mg.Tensor, like: str) -> mg.Tensor:
        y = y.astype(mg.float32).reshape(-1, 1)
        return y * 2 - 1 if like == "hinge" else y

    losses = {
        "cross_entropy": F.cross_entropy,
        "multi_margin": F.multi_margin_loss,
        "hinge": lambda out, y: F.hinge_loss(out, binary_target(y, "hinge")),
        "bce_with_logits": lambda out, y: F.binary_cross_entropy_with_logits(
            out, binary_target(y, "bce")),
        "mse": F.mse_loss,
        "l1": F.l1_loss,
        "huber": F.huber_loss,
    }
    return losses[config.loss]


def _outputs(config: TrainConfig, y: np.ndarray) -> int:
    if config.data == "regression":
        return y.shape[1]
    if config.loss in ("hinge", "bce_with_logits"):
        if int(y.max()) > 1:
            raise TrainingError(f"--loss {config.loss} is binary; --data {config.data} has "
                                f"{int(y.max()) + 1} classes")
        return 1
    return int(y.max()) + 1


def _predict(config: TrainConfig, out: mg.Tensor) -> np.ndarray:
    scores = out.numpy()
    if config.loss in ("hinge", "bce_with_logits"):
        return (scores[:, 0] > 0).astype(np.int64)
    return scores.argmax(axis=1)


def evaluate(config: TrainConfig, model: mg.nn.Module, X: np.ndarray, y: np.ndarray,
             loss_fn: Any) -> dict[str, float]:
    """The loss (and accuracy, for classification) on a whole data set."""
    model.eval()
    with mg.no_grad():
        out = model(mg.tensor(X, device=config.device))
        loss = float(loss_fn(out, mg.tensor(y, device=config.device)).item())
    model.train()
    metrics = {"loss": loss}
    if config.data != "regression":
        metrics["accuracy"] = float((_predict(config, out) == y).mean())
    return metrics


def warn(message: str) -> None:
    """A warning about the run, one line on stderr."""
    print(f"minigrad train: warning: {message}", file=sys.stderr)


def train(config: TrainConfig, given: Iterable[str] | None = None) -> dict[str, Any]:
    """Run one training job; returns the history and the final metrics.

    With ``config.resume``, the checkpoint's settings define the run: ``given`` names the
    settings the caller chose (the options on the command line; by default those that
    differ from a default run's), and one of them that conflicts with the checkpoint is
    refused, while epochs, lr, device, out and data_path are applied. Raises
    TrainingError for settings or inputs the run cannot use, and TrainingInterrupted on
    Ctrl-C, after saving the epochs done.
    """
    from .data import DataLoader, TensorDataset

    given = config.given() if given is None else set(given)
    checkpoint = None
    changes: list[str] = []
    if config.resume:
        checkpoint = read_checkpoint(config.resume)
        config, changes = resumed_config(config, checkpoint, given)
    _check_device(config.device, "device" not in given and checkpoint is not None)
    if config.lr == 0:
        warn("--lr 0 leaves the weights where they start; the run measures the initial model")
    mg.manual_seed(config.seed)
    # Data parallel (mpiexec -n N): rank 0 alone prints and writes; see _distributed().
    dist = _distributed()
    if dist is not None:
        if config.batch_size is not None and config.batch_size < dist.size():
            raise TrainingError(f"--batch-size {config.batch_size} is the global batch, "
                                f"shared by {dist.size()} MPI processes: it must be at least "
                                f"{dist.size()}")
        if config.device in ("cupy", "cuda"):
            dist.select_gpu()  # each rank of a machine on its own GPU, where it has several
    lead = dist is None or dist.rank() == 0
    if not lead:
        config = dataclasses.replace(config, quiet=True, progress=False, plot=False)
    out_dir = Path(config.out)
    if lead:
        out_dir.mkdir(parents=True, exist_ok=True)
    say = (lambda *a: None) if config.quiet else print
    X_train, X_test, y_train, y_test = load_data(config)
    model = build_model(config, X_train.shape[1], _outputs(config, y_train))
    optimizer = build_optimizer(config, model.parameters())
    start_epoch = 0
    history: dict[str, list[float]] = {}
    if checkpoint is not None:
        start_epoch = _restore(checkpoint, config, model, optimizer)
        history = {k: list(v) for k, v in checkpoint["history"].items()}
        say(f"resumed from {config.resume} after epoch {start_epoch}, writing to {out_dir}"
            + (f"; changed: {', '.join(changes)}" if changes else ""))
    dataset = TensorDataset(X_train, y_train)
    sampler = None
    if dist is not None:
        dist.broadcast_parameters(model)
        optimizer = dist.DistributedOptimizer(optimizer)
        sampler = dist.DistributedSampler(dataset, shuffle=config.batch_size is not None,
                                          seed=config.seed)

    def loader(epoch: int) -> DataLoader:
        """Epoch ``epoch``'s batches, in an order fixed by (seed, epoch) so resuming repeats it."""
        if sampler is not None:  # this rank's share; --batch-size is the global batch
            sampler.set_epoch(epoch)
            share = None if config.batch_size is None else config.batch_size // dist.size()
            return DataLoader(dataset, batch_size=share, sampler=sampler, device=config.device)
        return DataLoader(dataset, batch_size=config.batch_size,
                          shuffle=config.batch_size is not None,
                          seed=config.seed * 1_000_003 + epoch, device=config.device)

    loss_fn = _loss_fn(config)
    say(f"training {model!r}\non {config.data} ({len(X_train)} train, {len(X_test)} test) "
        f"with {config.loss} and {config.optimizer} (lr={config.lr}) on {config.device}")
    if dist is not None:
        say(f"data parallel over {dist.size()} MPI processes; gradients averaged in "
            f"{dist.gradient_path(config.device)}")
    checkpoint_path = out_dir / "checkpoint.npz"
    bar = _progress(config, (config.epochs - start_epoch) * len(loader(0)))
    started = time.perf_counter()
    epoch = start_epoch

    def train_step(xb: mg.Tensor, yb: mg.Tensor) -> mg.Tensor:
        loss = loss_fn(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    # the gradients of several processes are averaged inside step(): run it as it is
    step_fn = mg.compile(train_step) if config.compile and dist is None else train_step
    told = False
    try:
        for epoch in range(start_epoch, config.epochs):
            running = 0.0
            for step, (xb, yb) in enumerate(loader(epoch), 1):
                with warnings.catch_warnings():
                    warnings.filterwarnings("ignore", "mg.compile")  # said once, below
                    loss = step_fn(xb, yb)
                if not told and getattr(step_fn, "fallback", None) is not None:
                    say(f"the compiled step runs eagerly: it uses {step_fn.fallback}")
                    told = True
                running += (loss.item() - running) / step
                if bar is not None:
                    bar.update()
                    bar.set_postfix(epoch=epoch + 1, loss=f"{running:.4f}")
            train_metrics = evaluate(config, model, X_train, y_train, loss_fn)
            test_metrics = evaluate(config, model, X_test, y_test, loss_fn)
            if dist is not None:  # every rank records rank 0's figures
                train_metrics, test_metrics = dist.broadcast_object((train_metrics, test_metrics))
            for prefix, metrics in (("train", train_metrics), ("test", test_metrics)):
                for name, value in metrics.items():
                    history.setdefault(f"{prefix}_{name}", []).append(value)
            if lead:
                mg.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                         "epoch": epoch + 1, "config": _config_json(config),
                         "history": history}, checkpoint_path)
            line = f"epoch {epoch + 1:3d}/{config.epochs}  " + "  ".join(
                f"{k} {v[-1]:.4f}" for k, v in history.items())
            if bar is not None and not config.quiet:
                bar.write(line)
            elif not config.quiet:
                print(line, flush=True)
        epoch = config.epochs
    except KeyboardInterrupt:
        if bar is not None:
            bar.close()
        _finish(config, history, time.perf_counter() - started, checkpoint_path, lead)
        raise TrainingInterrupted(_how_to_go_on(config, epoch, start_epoch,
                                                checkpoint_path)) from None
    if bar is not None:
        bar.close()
    result = _finish(config, history, time.perf_counter() - started, checkpoint_path, lead)
    summary = "  ".join(f"{k} {v:.4f}" for k, v in result["final"].items()
                        if k.startswith("test"))
    if lead:
        print(f"done in {result['seconds']:.1f} s: {summary}; checkpoint {checkpoint_path}")
    return result


def _finish(config: TrainConfig, history: dict[str, list[float]], seconds: float,
            checkpoint: Path, lead: bool) -> dict[str, Any]:
    """metrics.json and the plot of the epochs done."""
    final = {k: v[-1] for k, v in history.items()}
    result = {"final": final, "history": history, "seconds": seconds,
              "checkpoint": str(checkpoint)}
    if lead and history:
        (checkpoint.parent / "metrics.json").write_text(json.dumps(result, indent=2))
        if config.plot:
            result["plot"] = _plot(history, checkpoint.parent / "curves.png", config.quiet)
    return result


def _how_to_go_on(config: TrainConfig, epoch: int, start_epoch: int, checkpoint: Path) -> str:
    """What an interrupted run saved, and the command that continues it."""
    if epoch == start_epoch and not config.resume:
        return f"interrupted during epoch {epoch + 1}, before any checkpoint was written"
    path = checkpoint if epoch > start_epoch else Path(config.resume)
    return (f"interrupted during epoch {epoch + 1} of {config.epochs}; the checkpoint after "
            f"epoch {epoch} is {path}; continue with: minigrad train --resume {path}")


def _check_device(device: str, from_checkpoint: bool = False) -> None:
    try:
        mg.get_backend(device)
    except (mg.BackendUnavailable, ValueError, TypeError) as err:
        where = " (the checkpoint's; choose another with --device)" if from_checkpoint else ""
        raise TrainingError(f"--device {device}{where}: {err}") from None


def read_checkpoint(path: str) -> dict[str, Any]:
    """A training checkpoint written by ``minigrad train``; TrainingError when it is not."""
    try:
        checkpoint = mg.load(path)
    except (OSError, ValueError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else err
        raise TrainingError(f"--resume {path}: {reason}") from None
    needed = ("model", "optimizer", "epoch", "config", "history")
    missing = [k for k in needed if not isinstance(checkpoint, dict) or k not in checkpoint]
    if missing:
        raise TrainingError(f"--resume {path}: a minigrad file, but not a checkpoint of "
                            f"minigrad train (it has no {', '.join(map(repr, missing))})")
    return checkpoint


def resumed_config(config: TrainConfig, checkpoint: dict[str, Any],
                   given: set[str]) -> tuple[TrainConfig, list[str]]:
    """The checkpoint's config, with the adjustable settings that ``given`` names taken
    from ``config``; the changes made, in words. TrainingError for a conflicting setting."""
    path = config.resume
    try:
        saved = TrainConfig(**_config_fields(checkpoint["config"]))
    except (TypeError, ValueError) as err:
        raise TrainingError(f"--resume {path}: its config cannot be read ({err})") from None
    conflicts = [f"--{_flag(name)} {_show(getattr(config, name))} (the checkpoint's: "
                 f"{_show(getattr(saved, name))})" for name in RUN_SETTINGS
                 if name in given and getattr(config, name) != getattr(saved, name)]
    if conflicts:
        raise TrainingError(f"--resume {path}: {'; '.join(conflicts)}: a resumed run keeps "
                            "its checkpoint's settings; leave these out, or start a new run")
    values = {name: getattr(saved, name) for name in _FIELDS}
    changes = []
    for name in ADJUSTABLE:
        if name in given and getattr(config, name) != values[name]:
            changes.append(f"{name} {_show(values[name])} -> {_show(getattr(config, name))}")
            values[name] = getattr(config, name)
    if "out" not in given:
        values["out"] = str(Path(path).parent)
    values.update(resume=path, plot=config.plot, progress=config.progress, quiet=config.quiet)
    done = int(checkpoint["epoch"])
    if values["epochs"] <= done:
        if "epochs" in given:
            raise TrainingError(f"--epochs {values['epochs']} is not more than the {done} "
                                f"epochs {path} has done; nothing to train")
        raise TrainingError(f"--resume {path}: its run has done all its {done} epochs; "
                            "pass --epochs N (more than that) to train further")
    return TrainConfig(**values), changes


def _restore(checkpoint: dict[str, Any], config: TrainConfig, model: mg.nn.Module,
             optimizer: mg.optim.Optimizer) -> int:
    """Load the model and optimizer from the checkpoint (at the config's lr); its epoch."""
    try:
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
    except (KeyError, ValueError, RuntimeError) as err:
        raise TrainingError(f"--resume {config.resume}: the saved weights do not fit the "
                            f"model of its config ({err})") from None
    for group in optimizer.param_groups:
        group["lr"] = config.lr
    return int(checkpoint["epoch"])


def _flag(name: str) -> str:
    return name.replace("_", "-")


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join(map(str, value)) or "none"
    return "full" if value is None else str(value)


def _distributed() -> Any:
    """``minigrad.distributed``, joined, when launched as one of several MPI processes
    (``mpiexec -n N minigrad train``); None otherwise, without importing MPI."""
    from . import distributed

    if distributed.launched_size() <= 1:
        return None
    distributed.init()
    return distributed if distributed.size() > 1 else None


def _config_json(config: TrainConfig) -> str:
    return json.dumps(dataclasses.asdict(config))


def _config_fields(saved: Any) -> dict[str, Any]:
    values = json.loads(str(saved))
    values["hidden"] = tuple(values["hidden"])
    return {k: v for k, v in values.items() if k in _FIELDS}


def _progress(config: TrainConfig, total: int) -> Any:
    """A progress bar, where a person watches: not in a log (output not a terminal)."""
    if not config.progress or config.quiet:
        return None
    if not (sys.stdout.isatty() and sys.stderr.isatty()):
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="step", dynamic_ncols=True, leave=False)


def _plot(history: dict[str, list[float]], path: Path, quiet: bool = False) -> str | None:
    """Loss and accuracy curves per epoch, when matplotlib is installed."""
    from . import plotting

    with contextlib.redirect_stdout(io.StringIO()) if quiet else contextlib.nullcontext():
        plt = plotting.pyplot()
        if plt is None:
            return None
        kinds = [k for k in ("loss", "accuracy") if f"train_{k}" in history]
        fig, axes = plt.subplots(1, len(kinds), figsize=(5 * len(kinds), 3.6), squeeze=False)
        for ax, kind in zip(axes[0], kinds):
            for prefix in ("train", "test"):
                values = history.get(f"{prefix}_{kind}")
                if values:
                    ax.plot(range(1, len(values) + 1), values, label=prefix)
            ax.set_xlabel("epoch")
            ax.set_ylabel(kind)
            if kind == "loss":
                ax.set_yscale("log")
            ax.grid(alpha=0.3)
            ax.legend()
        return plotting.save(fig, path)
