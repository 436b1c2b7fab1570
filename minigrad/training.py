"""``minigrad train``: an MLP on a data set, end to end, with checkpoints and a plot."""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

import minigrad as mg

DATASETS = ("digits", "spirals", "moons", "regression", "mnist")
LOSSES = ("cross_entropy", "multi_margin", "hinge", "bce_with_logits", "mse", "l1", "huber")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw")
REGRESSION_LOSSES = ("mse", "l1", "huber")


@dataclasses.dataclass
class TrainConfig:
    """Everything a training run depends on; saved in its checkpoint."""

    data: str = "digits"
    data_path: str | None = None
    hidden: tuple[int, ...] = (128,)
    activation: str = "relu"
    loss: str | None = None  # the data set's usual loss when None
    optimizer: str = "adam"
    lr: float | None = None  # the optimizer's usual rate when None
    momentum: float = 0.9
    weight_decay: float = 0.0
    batch_size: int | None = 32  # None: the whole training set (full-batch)
    epochs: int = 30
    test_fraction: float = 0.2
    device: str = "numpy"
    seed: int = 0
    out: str = "runs/latest"
    resume: str | None = None
    plot: bool = True
    progress: bool = True
    quiet: bool = False

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> TrainConfig:
        fields = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in vars(args).items() if k in fields}
        return cls(**values)

    def __post_init__(self) -> None:
        if self.data not in DATASETS:
            raise ValueError(f"unknown data set {self.data!r}; choose from {', '.join(DATASETS)}")
        if self.loss is None:
            self.loss = "mse" if self.data == "regression" else "cross_entropy"
        if self.loss not in LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}; choose from {', '.join(LOSSES)}")
        regression = self.data == "regression"
        if regression != (self.loss in REGRESSION_LOSSES):
            kind = "a regression" if regression else "a classification"
            raise ValueError(f"loss {self.loss!r} does not fit {self.data!r}, {kind} data set")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(
                f"unknown optimizer {self.optimizer!r}; choose from {', '.join(OPTIMIZERS)}"
            )
        if self.lr is None:
            self.lr = {"adam": 1e-3, "adamw": 1e-3, "rmsprop": 1e-3}.get(self.optimizer, 0.05)
        if self.epochs < 1:
            raise ValueError(f"epochs must be at least 1, got {self.epochs}")
        if self.batch_size is not None and self.batch_size < 1:
            raise ValueError(f"batch size must be positive, got {self.batch_size}")
        if self.data == "mnist" and not self.data_path:
            raise ValueError("--data mnist needs --data-path, the folder with the MNIST IDX files")
        self.hidden = tuple(int(n) for n in self.hidden)


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    d = TrainConfig()
    parser.add_argument("--data", choices=DATASETS, default=d.data, help="data set")
    parser.add_argument("--data-path", help="folder with the MNIST IDX files (plain or .gz)")
    parser.add_argument("--hidden", type=_sizes, default=d.hidden,
                        help="hidden layer sizes, comma separated (e.g. 128,64; 'none' for none)")
    parser.add_argument("--activation", choices=("relu", "tanh", "sigmoid", "leaky_relu"),
                        default=d.activation)
    parser.add_argument("--loss", choices=LOSSES,
                        help="loss (default: cross_entropy, or mse for regression)")
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default=d.optimizer)
    parser.add_argument("--lr", type=float, help="learning rate (default: 1e-3 for adam, "
                        "adamw and rmsprop, 0.05 for the SGD family)")
    parser.add_argument("--momentum", type=float, default=d.momentum,
                        help="momentum of the momentum and nesterov optimizers")
    parser.add_argument("--weight-decay", type=float, default=d.weight_decay)
    parser.add_argument("--batch-size", type=_batch, default=d.batch_size,
                        help="mini-batch size, or 'full' for full-batch gradient descent")
    parser.add_argument("--epochs", type=int, default=d.epochs)
    parser.add_argument("--test-fraction", type=float, default=d.test_fraction)
    parser.add_argument("--device", default=d.device, help="numpy, numba or cupy")
    parser.add_argument("--seed", type=int, default=d.seed)
    parser.add_argument("--out", default=d.out,
                        help="folder for the checkpoint, the metrics and the plot")
    parser.add_argument("--resume", help="checkpoint to continue from (runs up to --epochs)")
    parser.add_argument("--no-plot", dest="plot", action="store_false", help="skip the plot")
    parser.add_argument("--no-progress", dest="progress", action="store_false",
                        help="no progress bar")
    parser.add_argument("--quiet", action="store_true", help="print only the final result")


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
        X_train, y_train = datasets.load_mnist(config.data_path, train=True)
        X_test, y_test = datasets.load_mnist(config.data_path, train=False)
        return X_train, X_test, y_train, y_test
    return datasets.train_test_split(X, y, test_size=config.test_fraction, seed=config.seed)


def build_model(config: TrainConfig, n_in: int, n_out: int) -> mg.nn.Module:
    """An MLP: Linear layers with the chosen activation between them."""
    from . import nn

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
        return optim.AdamW(params, lr=config.lr, weight_decay=wd or 1e-2)
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
            raise ValueError(f"loss {config.loss!r} is binary; {config.data!r} has "
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


def train(config: TrainConfig) -> dict[str, Any]:
    """Run one training job; returns the history and the final metrics."""
    from .data import DataLoader, TensorDataset

    mg.manual_seed(config.seed)
    # Data parallel (mpiexec -n N): rank 0 alone prints and writes; see _distributed().
    dist = _distributed()
    if dist is not None and config.device in ("cupy", "cuda"):
        dist.select_gpu()  # each rank of a machine on its own GPU, where it has several
    lead = dist is None or dist.rank() == 0
    if not lead:
        config = dataclasses.replace(config, quiet=True, progress=False, plot=False)
    out_dir = Path(config.out)
    if lead:
        out_dir.mkdir(parents=True, exist_ok=True)
    say = (lambda *a: None) if config.quiet else print
    X_train, X_test, y_train, y_test = load_data(config)
    start_epoch = 0
    history: dict[str, list[float]] = {}
    checkpoint = None
    if config.resume:
        checkpoint = mg.load(config.resume)
        saved = TrainConfig(**{**_config_fields(checkpoint["config"]), "epochs": config.epochs,
                               "resume": config.resume, "out": config.out,
                               "device": config.device, "quiet": config.quiet,
                               "progress": config.progress, "plot": config.plot})
        config = saved
    model = build_model(config, X_train.shape[1], _outputs(config, y_train))
    optimizer = build_optimizer(config, model.parameters())
    if checkpoint is not None:
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        start_epoch = int(checkpoint["epoch"])
        history = {k: list(v) for k, v in checkpoint["history"].items()}
        say(f"resumed from {config.resume} after epoch {start_epoch}")
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
            share = None if config.batch_size is None else max(1, config.batch_size // dist.size())
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
    bar = _progress(config, (config.epochs - start_epoch) * len(loader(0)))
    started = time.perf_counter()
    for epoch in range(start_epoch, config.epochs):
        running = 0.0
        for step, (xb, yb) in enumerate(loader(epoch), 1):
            loss = loss_fn(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
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
        line = f"epoch {epoch + 1:3d}/{config.epochs}  " + "  ".join(
            f"{k} {v[-1]:.4f}" for k, v in history.items())
        if not config.quiet:
            (bar.write if bar is not None else print)(line)
        if lead:
            mg.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                     "epoch": epoch + 1, "config": _config_json(config), "history": history},
                    out_dir / "checkpoint.npz")
    if bar is not None:
        bar.close()
    seconds = time.perf_counter() - started
    final = {k: v[-1] for k, v in history.items()}
    result = {"final": final, "history": history, "seconds": seconds,
              "checkpoint": str(out_dir / "checkpoint.npz")}
    if lead:
        (out_dir / "metrics.json").write_text(json.dumps(result, indent=2))
    if config.plot:
        result["plot"] = _plot(history, out_dir / "curves.png")
    summary = "  ".join(f"{k} {v:.4f}" for k, v in final.items() if k.startswith("test"))
    if lead:
        print(f"done in {seconds:.1f} s: {summary}; checkpoint {result['checkpoint']}")
    return result


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
    return values


def _progress(config: TrainConfig, total: int) -> Any:
    if not config.progress or config.quiet:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="step", dynamic_ncols=True, leave=False)


def _plot(history: dict[str, list[float]], path: Path) -> str | None:
    """Loss and accuracy curves per epoch, when matplotlib is installed."""
    from . import plotting

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
