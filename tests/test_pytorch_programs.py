"""Programs in the style of PyTorch's beginner material, run with ``import minigrad as
torch``: each idiom they use (tensors updated by hand under no_grad, a custom Function,
``.data``, fancy indexing with ``range``, a Lambda module, device selection, ``.to``)
works, and training converges."""

import math

import numpy as np

import minigrad as torch
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.utils.data import DataLoader, TensorDataset


def test_fitting_a_polynomial_by_hand_and_with_modules():
    torch.manual_seed(0)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    x = torch.linspace(-math.pi, math.pi, 500, device=device, dtype=torch.float)
    y = torch.sin(x)
    coeffs = [torch.randn((), device=device, dtype=torch.float, requires_grad=True)
              for _ in range(4)]
    first = None
    for _ in range(300):
        a, b, c, d = coeffs
        loss = (a + b * x + c * x ** 2 + d * x ** 3 - y).pow(2).sum()
        first = loss.item() if first is None else first
        loss.backward()
        with torch.no_grad():
            for w in coeffs:
                w -= 1e-5 * w.grad
                w.grad = None
    assert loss.item() < first / 10

    class Cubic(torch.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            ctx.save_for_backward(t)
            return 0.5 * (5 * t ** 3 - 3 * t)

        @staticmethod
        def backward(ctx, grad_output):
            (t,) = ctx.saved_tensors
            return grad_output * 1.5 * (5 * t ** 2 - 1)

    scale = torch.full((), 0.3, requires_grad=True)
    Cubic.apply(scale * x).sum().backward()
    assert scale.grad is not None and math.isfinite(scale.grad.item())

    powers = x.unsqueeze(-1).pow(torch.tensor([1, 2, 3]))
    model = nn.Sequential(nn.Linear(3, 1), nn.Flatten(0, 1))
    loss_fn = nn.MSELoss(reduction="sum")
    start = loss_fn(model(powers), y).item()
    for _ in range(300):
        loss = loss_fn(model(powers), y)
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for param in model.parameters():
                param -= 1e-5 * param.grad
    assert loss.item() < start
    assert isinstance(model[0].weight[:, 0].item(), float)


def test_logistic_regression_and_a_small_cnn_on_random_digits():
    rng = np.random.default_rng(0)
    x_train = rng.random((256, 64), dtype=np.float32)
    y_train = (x_train[:, :32].sum(1) > x_train[:, 32:].sum(1)).astype(np.int64)
    x_train, y_train = map(torch.tensor, (x_train, y_train))
    weights = (torch.randn(64, 2) / math.sqrt(64)).requires_grad_()
    bias = torch.zeros(2, requires_grad=True)

    def log_softmax(t):
        return t - t.exp().sum(-1).log().unsqueeze(-1)

    def nll(logp, target):
        return -logp[range(target.shape[0]), target].mean()

    def accuracy(out, target):
        return (torch.argmax(out, dim=1) == target).float().mean().item()

    for _ in range(60):
        for i in range(4):
            xb, yb = x_train[i * 64:(i + 1) * 64], y_train[i * 64:(i + 1) * 64]
            loss = nll(log_softmax(xb @ weights + bias), yb)
            loss.backward()
            with torch.no_grad():
                weights -= weights.grad * 0.5
                bias -= bias.grad * 0.5
                weights.grad.zero_()
                bias.grad.zero_()
    assert accuracy(x_train @ weights + bias, y_train) > 0.8

    class Lambda(nn.Module):
        def __init__(self, func):
            super().__init__()
            self.func = func

        def forward(self, t):
            return self.func(t)

    model = nn.Sequential(
        Lambda(lambda t: t.view(-1, 1, 8, 8)),
        nn.Conv2d(1, 8, kernel_size=3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(8, 2, kernel_size=3, stride=2, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), Lambda(lambda t: t.view(t.size(0), -1)))
    model.to(torch.device("cpu"))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=32, shuffle=True)
    losses = []
    for _ in range(3):
        model.train()
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb.to("cpu")), yb.to("cpu"))
            loss.backward()
            opt.step()
            opt.zero_grad()
        model.eval()
        with torch.no_grad():
            losses.append(F.cross_entropy(model(x_train), y_train).item())
    assert all(math.isfinite(v) for v in losses)
