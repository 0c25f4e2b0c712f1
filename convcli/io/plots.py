"""Pictures drawn with Matplotlib (Agg, no display): training curves, filters, kernels, maps.

Matplotlib is imported only inside these functions, when a picture is asked for, so
every other command starts without it. Files are written atomically as PNG.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import DataError
from .atomic import atomic_path


def _pyplot():
    """Matplotlib's pyplot on the Agg backend, imported on first use."""
    try:
        import matplotlib
    except ImportError:
        raise DataError("drawing needs Matplotlib: pip install matplotlib") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: str) -> None:
    plt = _pyplot()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)


def training_curves(path: str, epochs: list[dict]) -> None:
    """Loss and train/test accuracy per epoch, side by side.

    Parameters
    ----------
    epochs : list of dict with 'epoch', 'loss', 'train_accuracy', 'test_accuracy'
    """
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    x = [e["epoch"] for e in epochs]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4), layout="constrained")
    left.plot(x, [e["loss"] for e in epochs], "o-", color="tab:red", label="loss")
    left.set(title="training loss", xlabel="epoch", ylim=(0, None))
    right.plot(x, [e["train_accuracy"] for e in epochs], "o-", label="train")
    right.plot(x, [e["test_accuracy"] for e in epochs], "o-", label="test")
    right.set(title="accuracy", xlabel="epoch", ylim=(None, 1.0))
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend()
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    _save(fig, path)


def _grid(count: int) -> tuple[int, int]:
    cols = math.ceil(math.sqrt(count))
    return math.ceil(count / cols), cols


def filter_grid(path: str, w: np.ndarray) -> None:
    """Filters (K, C, kh, kw) in a grid: grey zero, white positive, black negative (per filter).

    Three-channel filters are shown in colour, others as the mean over channels.
    """
    plt = _pyplot()
    k, c = w.shape[:2]
    rows, cols = _grid(k)
    fig, axes = plt.subplots(rows, cols, figsize=(1.2 * cols, 1.2 * rows), squeeze=False,
                             layout="constrained")
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= k:
            continue
        tile = w[i].transpose(1, 2, 0)  # (kh, kw, C)
        peak = float(np.abs(tile).max()) or 1.0
        if c == 3:
            ax.imshow(0.5 + 0.5 * tile / peak, interpolation="nearest")
        else:
            ax.imshow(tile.mean(axis=2), cmap="gray", vmin=-peak, vmax=peak,
                      interpolation="nearest")
        ax.set_title(str(i + 1), fontsize=8)
    _save(fig, path)


def kernel_plot(path: str, kernel: np.ndarray, title: str, rate: float | None = None) -> None:
    """A kernel: 2-D as an image with its values; 1-D as taps and, with a rate, its response.

    Parameters
    ----------
    kernel : ndarray of shape (k,) or (kh, kw)
    rate : float, optional
        Sample rate in Hz; adds the magnitude response in dB of a 1-D kernel.
    """
    plt = _pyplot()
    if kernel.ndim == 2:
        fig, ax = plt.subplots(figsize=(4, 4), layout="constrained")
        peak = float(np.abs(kernel).max()) or 1.0
        image = ax.imshow(kernel, cmap="RdBu_r", vmin=-peak, vmax=peak)
        if kernel.size <= 81:
            for (r, c), v in np.ndenumerate(kernel):
                ax.text(c, r, f"{v:.3g}", ha="center", va="center", fontsize=8)
        ax.set_xticks(range(kernel.shape[1]))
        ax.set_yticks(range(kernel.shape[0]))
        fig.colorbar(image, ax=ax, shrink=0.8)
        ax.set_title(title)
        _save(fig, path)
        return
    panels = 2 if rate else 1
    fig, axes = plt.subplots(1, panels, figsize=(4.5 * panels, 3.2), squeeze=False,
                             layout="constrained")
    taps = axes[0, 0]
    taps.stem(np.arange(len(kernel)), kernel)
    taps.set(title=f"{title}: taps", xlabel="tap")
    taps.grid(alpha=0.3)
    if rate:
        n = max(1024, 2 ** math.ceil(math.log2(8 * len(kernel))))
        response = np.abs(np.fft.rfft(kernel, n))
        db = 20 * np.log10(np.maximum(response, 1e-12))
        freq = axes[0, 1]
        freq.plot(np.fft.rfftfreq(n, 1 / rate), db)
        freq.set(title="magnitude response", xlabel="Hz", ylabel="dB",
                 ylim=(max(-120.0, float(db.min()) - 5), float(db.max()) + 5))
        freq.grid(alpha=0.3)
    _save(fig, path)


def activation_maps(path: str, image: np.ndarray, maps: list[tuple[str, np.ndarray]],
                    title: str) -> None:
    """The input digit and each conv layer's activation maps, one row per layer.

    Parameters
    ----------
    image : ndarray of shape (H, W)
    maps : list of (layer name, ndarray of shape (H', W', K))
    """
    plt = _pyplot()
    cols = max(8, *(min(m.shape[2], 16) for _, m in maps)) if maps else 8
    rows = 1 + sum(math.ceil(m.shape[2] / cols) for _, m in maps)
    fig, axes = plt.subplots(rows, cols, figsize=(1.1 * cols, 1.25 * rows), squeeze=False,
                             layout="constrained")
    for ax in axes.flat:
        ax.axis("off")
    axes[0, 0].imshow(image, cmap="gray")
    axes[0, 0].set_title("input", fontsize=8)
    fig.suptitle(title)
    row = 1
    for name, m in maps:
        for k in range(m.shape[2]):
            ax = axes[row + k // cols, k % cols]
            ax.imshow(m[:, :, k], cmap="viridis")
            ax.set_title(f"{name} #{k + 1}" if k == 0 else f"#{k + 1}", fontsize=7)
        row += math.ceil(m.shape[2] / cols)
    _save(fig, path)
