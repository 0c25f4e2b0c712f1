"""Pictures drawn with Matplotlib (Agg, no display): training curves, filters, kernels, maps.

Matplotlib is imported only inside these functions, when a picture is asked for, so
every other command starts without it. Files are written atomically as PNG at 100 dpi;
every label is at least 9 pt (12 px) at that size. Colour scales follow the data: a
sequential map from 0 when every value is >= 0, a diverging one centred on 0 otherwise,
shared by every tile of a picture and shown by a colour bar.
"""

from __future__ import annotations

import math
import textwrap

import numpy as np

from .atomic import atomic_path

LABEL = 10  # points: 14 px at 100 dpi
SMALL = 9  # points: 12.5 px
SPARSE = 0.05  # a 1-D kernel with fewer non-zero taps than this share is drawn as stems only


def _pyplot():
    """Matplotlib's pyplot on the Agg backend, imported on first use."""
    from ..extras import need

    matplotlib = need("matplotlib", "drawing")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: str) -> None:
    plt = _pyplot()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)


def colour_scale(values) -> tuple[str, float, float]:
    """(colour map, vmin, vmax): sequential from 0 for values all >= 0, else symmetric about 0."""
    values = np.asarray(values, dtype=float)
    peak = float(np.abs(values).max(initial=0.0)) or 1.0
    if values.size and values.min() >= 0:
        return "viridis", 0.0, peak
    return "RdBu_r", -peak, peak


def _ink(cmap, vmin: float, vmax: float, v: float) -> str:
    """Black or white, whichever reads on the cell colour of ``v`` (by its luminance)."""
    import matplotlib

    r, g, b, _ = matplotlib.colormaps[cmap]((v - vmin) / ((vmax - vmin) or 1.0))
    return "black" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.45 else "white"


def training_curves(path: str, epochs: list[dict], title: str | None = None) -> None:
    """Loss and train/test accuracy per epoch, side by side, under a title naming the run.

    Parameters
    ----------
    epochs : list of dict with 'epoch', 'loss', 'train_accuracy', 'test_accuracy'
        :class:`convcli.nn.train.History`'s rows; their ``run`` attribute (the
        architecture, loss and epochs) is the title when ``title`` is not given.
    """
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    title = title or getattr(epochs, "run", None)
    x = [e["epoch"] for e in epochs]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.8), layout="constrained")
    left.plot(x, [e["loss"] for e in epochs], "o-", color="tab:red", label="training loss")
    left.set(title="training loss", xlabel="epoch", ylabel="loss (mean per image)", ylim=(0, None))
    right.plot(x, [e["train_accuracy"] for e in epochs], "o-", label="train")
    right.plot(x, [e["test_accuracy"] for e in epochs], "o-", label="test")
    right.set(
        title="accuracy", xlabel="epoch", ylabel="accuracy (fraction correct)", ylim=(None, 1.0)
    )
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend()
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if title:
        fig.suptitle("\n".join(textwrap.wrap(title, 110)), fontsize=LABEL)
    _save(fig, path)


def _grid(count: int) -> tuple[int, int]:
    cols = math.ceil(math.sqrt(count))
    return math.ceil(count / cols), cols


def filter_grid(path: str, w: np.ndarray) -> None:
    """Filters (K, C, kh, kw) in a grid on one symmetric colour scale, with its colour bar.

    Red is positive, blue negative, white zero, the same for every tile, so tiles can be
    compared. Three-channel filters are shown in colour (0.5 grey is zero), others as the
    mean over channels.
    """
    plt = _pyplot()
    k, c = w.shape[:2]
    rows, cols = _grid(k)
    tiles = w.transpose(0, 2, 3, 1)  # (K, kh, kw, C)
    shown = tiles if c == 3 else tiles.mean(axis=3)
    peak = float(np.abs(shown).max()) or 1.0
    fig, axes = plt.subplots(
        rows,
        cols,
        figsize=(1.3 * cols + 1.2, 1.4 * rows + 0.5),
        squeeze=False,
        layout="constrained",
    )
    image = None
    for i, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if i >= k:
            ax.axis("off")
            continue
        if c == 3:
            ax.imshow(np.clip(0.5 + 0.5 * shown[i] / peak, 0, 1), interpolation="nearest")
        else:
            image = ax.imshow(
                shown[i], cmap="RdBu_r", vmin=-peak, vmax=peak, interpolation="nearest"
            )
        ax.set_title(f"filter {i + 1}", fontsize=SMALL)
    if image is not None:
        bar = fig.colorbar(image, ax=axes, shrink=0.9)
        bar.set_label("weight (one scale for all)", fontsize=SMALL)
        bar.ax.tick_params(labelsize=SMALL)
    fig.suptitle(
        f"first layer: {k} filters of {w.shape[2]}x{w.shape[3]}"
        + (f", mean over {c} channels" if c not in (1, 3) else ""),
        fontsize=LABEL,
    )
    _save(fig, path)


def kernel_plot(path: str, kernel: np.ndarray, title: str, rate: float | None = None) -> None:
    """A kernel: 2-D as an image with its values; 1-D as taps and, with a rate, its response.

    Parameters
    ----------
    kernel : ndarray of shape (k,) or (kh, kw)
    rate : float, optional
        Sample rate in Hz: taps against time in seconds, and the magnitude response in dB.
    """
    if kernel.ndim == 2:
        _kernel_image(path, kernel, title)
        return
    plt = _pyplot()
    panels = 2 if rate else 1
    fig, axes = plt.subplots(
        1, panels, figsize=(4.8 * panels, 3.4), squeeze=False, layout="constrained"
    )
    _taps(axes[0, 0], kernel, title, rate)
    if rate:
        _response(axes[0, 1], kernel, rate)
    _save(fig, path)


def _kernel_image(path: str, kernel: np.ndarray, title: str) -> None:
    plt = _pyplot()
    labelled = kernel.size <= 81
    side = max(4.0, 0.8 * max(kernel.shape) + 1.2) if labelled else 4.4  # 0.8 in a cell
    fig, ax = plt.subplots(figsize=(side + 0.6, side), layout="constrained")
    cmap, vmin, vmax = colour_scale(kernel)
    image = ax.imshow(kernel, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    if labelled:
        for (r, c), v in np.ndenumerate(kernel):
            ax.text(
                c,
                r,
                _short(float(v)),
                ha="center",
                va="center",
                fontsize=SMALL,
                color=_ink(cmap, vmin, vmax, float(v)),
            )
    ax.set_xticks(range(kernel.shape[1]))
    ax.set_yticks(range(kernel.shape[0]))
    ax.set(xlabel="column", ylabel="row")
    if kernel.shape[1] > 15:
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    fig.colorbar(image, ax=ax, shrink=0.8)
    ax.set_title(title)
    _save(fig, path)


def _short(v: float) -> str:
    """A cell's label in at most about 7 characters."""
    if v and abs(v) < 1e-3:
        return f"{v:.1e}"
    return f"{v:.3g}"


def _is_sparse(kernel: np.ndarray) -> bool:
    return len(kernel) > 32 and np.count_nonzero(kernel) <= SPARSE * len(kernel)


def _taps(ax, kernel: np.ndarray, title: str, rate: float | None) -> None:
    """Every tap as a stem, or only the non-zero ones (each labelled) for a sparse kernel."""
    from matplotlib.ticker import MaxNLocator

    n = np.arange(len(kernel))
    t = n / rate if rate else n
    if _is_sparse(kernel):
        keep = np.flatnonzero(kernel)
        ax.stem(t[keep], kernel[keep], basefmt="none")
        for i in keep[:12]:
            where = f"{t[i]:.4g} s" if rate else f"tap {i}"
            ax.annotate(
                f"{kernel[i]:.3g} at {where}",
                (t[i], kernel[i]),
                textcoords="offset points",
                xytext=(4, 4),
                fontsize=SMALL,
            )
        ax.axhline(0, color="0.6", linewidth=0.8)
        ax.margins(y=0.15)
        ax.set_xlim(t[0] - 0.04 * t[-1], t[-1] * 1.12)
        what = f"{len(keep)} non-zero of {len(kernel):,} taps"
    else:
        ax.stem(t, kernel, basefmt="0.6")
        what = "taps"
    if not rate:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set(title=f"{title}: {what}", xlabel="time (s)" if rate else "tap", ylabel="value")
    ax.grid(alpha=0.3)


def _response(ax, kernel: np.ndarray, rate: float) -> None:
    """Magnitude response in dB; a sparse kernel's comb is drawn over a few of its periods."""
    keep = np.flatnonzero(kernel)
    if _is_sparse(kernel) and len(keep) > 1:
        step = np.gcd.reduce(np.diff(keep))  # the response repeats every rate/step Hz
        period = rate / step
        top = min(rate / 2, 5 * period)
        freq = np.linspace(0, top, 2000)
        response = np.abs(np.exp(-2j * np.pi * np.outer(freq / rate, keep)) @ kernel[keep])
        label = f"magnitude response, 0 to {top:.4g} Hz (it repeats every {period:.4g} Hz)"
    else:
        size = max(1024, 2 ** math.ceil(math.log2(8 * len(kernel))))
        response = np.abs(np.fft.rfft(kernel, size))
        freq = np.fft.rfftfreq(size, 1 / rate)
        label = "magnitude response"
    db = 20 * np.log10(np.maximum(response, 1e-12))
    ax.plot(freq, db)
    ax.set(
        xlabel="frequency (Hz)",
        ylabel="gain (dB)",
        ylim=(max(-120.0, float(db.min()) - 5), float(db.max()) + 5),
    )
    ax.set_title("\n".join(textwrap.wrap(label, 48)), fontsize=LABEL)
    ax.grid(alpha=0.3)


def activation_maps(
    path: str, image: np.ndarray, maps: list[tuple[str, np.ndarray]], title: str
) -> None:
    """The input digit and each conv layer's activation maps, a block of rows per layer.

    Each layer's maps share one colour scale (from 0 after a ReLU), shown by the colour
    bar beside its block; the layer's name heads the block.

    Parameters
    ----------
    image : ndarray of shape (H, W)
    maps : list of (layer name, ndarray of shape (H', W', K))
    """
    plt = _pyplot()
    cols = max(8, *(min(m.shape[2], 12) for _, m in maps)) if maps else 8
    heights = [1.0] + [math.ceil(m.shape[2] / cols) for _, m in maps]
    fig = plt.figure(figsize=(1.15 * cols + 1.0, 1.45 * sum(heights) + 0.9), layout="constrained")
    blocks = fig.subfigures(len(heights), 1, height_ratios=heights)
    blocks = np.atleast_1d(blocks)
    first = blocks[0].subplots(1, cols, squeeze=False)[0]
    for ax in first:
        ax.axis("off")
    first[0].imshow(image, cmap="gray")
    first[0].set_title("input", fontsize=SMALL)
    fig.suptitle(title, fontsize=LABEL + 1)
    for block, (name, m) in zip(blocks[1:], maps):
        _map_block(block, name, m, cols)
    _save(fig, path)


def _map_block(block, name: str, m: np.ndarray, cols: int) -> None:
    rows = math.ceil(m.shape[2] / cols)
    axes = block.subplots(rows, cols, squeeze=False)
    cmap, vmin, vmax = colour_scale(m)
    shown = None
    for k, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if k >= m.shape[2]:
            ax.axis("off")
            continue
        shown = ax.imshow(m[:, :, k], cmap=cmap, vmin=vmin, vmax=vmax)
        ax.set_title(f"#{k + 1}", fontsize=SMALL)
    block.suptitle(f"{name}: {m.shape[2]} maps of {m.shape[0]}x{m.shape[1]}", fontsize=LABEL)
    bar = block.colorbar(shown, ax=axes, shrink=0.9, aspect=12 * rows)
    bar.ax.tick_params(labelsize=SMALL)
    bar.set_label("activation", fontsize=SMALL)
