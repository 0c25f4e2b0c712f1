"""``--animate FILE.gif``: the flip-and-slide of a small convolution, one frame per output.

The seed tutorial draws convolution as the flipped kernel sliding along the zero-padded
input. Each frame here shows the padded input (padding grey), the window under the kernel
(highlighted, the slid kernel's taps beneath it), the products and their sum, and the
output so far, valid positions (window wholly inside the input) green, the others blue.
The stride shows as the window's jump from one frame to the next. The arithmetic is the
naive loop of :mod:`convcli.steps`; frames are drawn with Matplotlib (Agg, imported here
only) and written with Pillow, atomically.
"""

from __future__ import annotations

import io

import numpy as np

from .engine.padding import pad_pairs
from .errors import FormatError, ShapeError
from .geometry import axes, check_nonempty
from .steps import _factor, _num

MAX_1D = 64
MAX_2D = 16
_PAD, _INPUT, _WINDOW, _KERNEL = "#d9d9d9", "#ffffff", "#ffd27f", "#f4a259"
_VALID, _OTHER, _EDGE = "#8fd18f", "#a9c8ec", "#d0660b"


def _geometry(x, w, ndim, mode, pad, stride, dilation):
    channels = np.ndim(x) > ndim and np.prod(np.shape(x)[ndim:]) > 1
    if np.ndim(w) == 4 or np.ndim(w) > ndim or channels:
        raise ShapeError(
            "--animate draws one channel through one kernel: give a single "
            "signal or matrix (conv2d --gray for a photo), not channels or "
            "a filter bank"
        )
    geometry = axes(
        np.shape(x)[:ndim],
        np.shape(w)[:ndim],
        mode if pad is None else None,
        pad=pad,
        stride=stride,
        dilation=dilation,
    )
    check_nonempty(geometry)
    lengths = [ax.length for ax in geometry]
    if ndim == 1 and lengths[0] > MAX_1D:
        raise ShapeError(
            f"--animate shows at most {MAX_1D} outputs in 1-D; this result has "
            f"{lengths[0]} (use a shorter input or a larger --stride)"
        )
    if ndim == 2 and max(lengths) > MAX_2D:
        raise ShapeError(
            f"--animate shows at most {MAX_2D}x{MAX_2D} outputs in 2-D; this "
            f"result is {lengths[0]}x{lengths[1]} (use a smaller input or a "
            "larger --stride)"
        )
    return geometry


def animation(
    x,
    w,
    *,
    ndim: int,
    mode=None,
    pad=None,
    pad_mode="zeros",
    pad_value=0.0,
    stride=1,
    dilation=1,
    correlate=False,
    bias=None,
    layout="oihw",
) -> list:
    """The frames of a small convolution's flip-and-slide, one per output position.

    Parameters
    ----------
    x : array_like of shape (n,) or (rows, cols)
        One signal or one matrix (a trailing channel axis of length 1 is allowed).
    w : array_like of shape (k,) or (kh, kw)
    ndim, mode, pad, pad_mode, pad_value, stride, dilation, correlate
        As in :func:`convcli.convolve`.
    bias, layout
        Accepted for the CLI's sake; a bias needs a filter bank, which is refused.

    Returns
    -------
    list of PIL.Image.Image
        RGB frames of one size, in output order (row by row in 2-D).

    Raises
    ------
    ShapeError
        For more than 64 outputs (1-D) or 16x16 (2-D), channels or a filter bank.
    """
    geometry = _geometry(x, w, ndim, mode, pad, stride, dilation)
    x = np.asarray(x).reshape(np.shape(x)[:ndim])
    w = np.asarray(w).reshape(np.shape(w)[:ndim])
    taps = w if correlate else np.flip(w)
    xp = pad_pairs(x, [(ax.before, ax.after) for ax in geometry], pad_mode, pad_value)
    y = np.zeros([ax.length for ax in geometry], np.result_type(xp, taps))
    draw = _Frames1D if ndim == 1 else _Frames2D
    return draw(xp, w, taps, geometry, correlate, pad_mode, y).frames()


def _pyplot():
    from .io.plots import _pyplot

    return _pyplot()


def _valid(index, geometry) -> bool:
    return all(
        ax.before <= i * ax.stride and i * ax.stride + ax.ke <= ax.before + ax.n
        for i, ax in zip(index, geometry)
    )


def _window(xp, index, geometry):
    return xp[
        tuple(
            slice(i * ax.stride, i * ax.stride + ax.ke, ax.dilation)
            for i, ax in zip(index, geometry)
        )
    ]


class _Frames:
    """What both drawings share: the sums, the caption and the figure's rendering."""

    def __init__(self, xp, w, taps, geometry, correlate, pad_mode, y):
        self.xp, self.w, self.taps, self.geometry = xp, w, taps, geometry
        self.correlate, self.pad_mode, self.y = correlate, pad_mode, y
        self.done: set = set()

    def frames(self) -> list:
        plt = _pyplot()
        fig = plt.figure(figsize=self.size(), dpi=100)
        images = []
        try:
            for index in np.ndindex(*self.y.shape):
                window = _window(self.xp, index, self.geometry)
                self.y[index] = (window * self.taps).sum()
                self.done.add(index)
                fig.clear()
                self.draw(fig, index, window)
                images.append(_render(fig))
        finally:
            plt.close(fig)
        return images

    def products(self, window) -> str:
        terms = [
            f"{_factor(a)}*{_factor(b)}"
            for a, b in zip(window.ravel().tolist(), self.taps.ravel().tolist())
        ]
        return " + ".join(terms)

    def flip_text(self) -> str:
        if self.taps.ndim == 1:
            w = " ".join(_num(v) for v in self.w.tolist())
            if self.correlate:
                return f"--correlate: the kernel {w} slides as it is (not flipped)"
            flipped = " ".join(_num(v) for v in self.taps.tolist())
            return f"convolution: the kernel {w} is flipped to {flipped}, then slides"
        if self.correlate:
            return "--correlate: the kernel slides as it is (not flipped)"
        return "convolution: the kernel is flipped (rows and columns), then slides"

    def stride_text(self) -> str:
        strides = sorted({ax.stride for ax in self.geometry})
        if strides == [1]:
            return "stride 1"
        return (
            "stride "
            + " and ".join(map(str, strides))
            + ": the window jumps "
            + " and ".join(map(str, strides))
            + " samples"
        )

    def caption(self, fig, index, window, font) -> None:
        label = ",".join(map(str, index))
        mark = "valid" if _valid(index, self.geometry) else "not valid: it overlaps the padding"
        fig.text(0.01, 0.97, f"{self.flip_text()}; {self.stride_text()}", fontsize=font, va="top")
        fig.text(
            0.01,
            0.89,
            f"y[{label}] = {self.products(window)} = {_num(self.y[index])}   ({mark})",
            fontsize=font,
            va="top",
            fontweight="bold",
        )
        fig.text(
            0.01,
            0.81,
            "green: valid outputs (the window lies inside the input); "
            "blue: the window overlaps the padding (grey)",
            fontsize=font - 1,
            va="top",
            color="#444444",
        )


def _render(fig):
    from PIL import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def _cell(ax, x0, y0, text, face, size, edge="#555555", width=0.8, colour="black"):
    from matplotlib.patches import Rectangle

    ax.add_patch(Rectangle((x0, y0), 1, 1, facecolor=face, edgecolor=edge, linewidth=width))
    if text is not None:
        ax.text(x0 + 0.5, y0 + 0.5, text, ha="center", va="center", fontsize=size, color=colour)


class _Frames1D(_Frames):
    """Rows top to bottom: the padded input, the slid kernel under the window, the output."""

    def size(self):
        ax = self.geometry[0]
        return (min(16.0, max(9.0, 0.42 * (ax.span + 5))), 3.8)

    def draw(self, fig, index, window):
        from matplotlib.patches import Rectangle

        (ax_,) = self.geometry
        (i,) = index
        left = ax_.before
        font = 11 if ax_.span <= 30 else 8
        ax = fig.add_axes((0.01, 0.02, 0.98, 0.70))
        ax.set_xlim(-4.5, ax_.span + 0.5)
        ax.set_ylim(-0.3, 5.2)
        ax.axis("off")
        ax.text(-0.3, 4.5, "padded input", ha="right", va="center", fontsize=font)
        ax.text(
            -0.3,
            2.5,
            "kernel" if self.correlate else "flipped kernel",
            ha="right",
            va="center",
            fontsize=font,
        )
        ax.text(-0.3, 0.5, "output", ha="right", va="center", fontsize=font)
        start = i * ax_.stride
        for p, v in enumerate(self.xp.tolist()):
            inside = left <= p < left + ax_.n
            face = (
                _WINDOW
                if start <= p < start + ax_.ke and (p - start) % ax_.dilation == 0
                else _INPUT
                if inside
                else _PAD
            )
            _cell(ax, p, 4, _num(v), face, font, colour="black" if inside else "#666666")
        ax.add_patch(
            Rectangle((start, 3.9), ax_.ke, 1.2, fill=False, edgecolor=_EDGE, linewidth=2.5)
        )
        for j, t in enumerate(self.taps.tolist()):
            _cell(ax, start + j * ax_.dilation, 2, _num(t), _KERNEL, font)
        for o in range(ax_.length):
            if (o,) in self.done:
                face = _VALID if _valid((o,), self.geometry) else _OTHER
                edge, width = (_EDGE, 2.5) if o == i else ("#555555", 0.8)
                _cell(
                    ax,
                    o * ax_.stride + (ax_.ke - 1) / 2,
                    0,
                    _num(self.y[o]),
                    face,
                    font,
                    edge,
                    width,
                )
        self.caption(fig, index, window, font)


class _Frames2D(_Frames):
    """Side by side: the padded input with the window, the slid kernel, the output so far."""

    def size(self):
        rows, cols = (ax.span for ax in self.geometry)
        kr, kc = self.taps.shape
        out_r, out_c = self.y.shape
        width = 0.42 * (cols + kc + out_c) + 2.5
        return (min(16.0, max(8.0, width)), min(10.0, max(4.6, 0.42 * max(rows, 5) + 1.8)))

    def draw(self, fig, index, window):
        rows, cols = (ax.span for ax in self.geometry)
        font = 10 if max(rows, cols) <= 14 else 7
        total = cols + self.taps.shape[1] + self.y.shape[1] + 4.0
        x0 = 0.02
        panels = []
        for width in (cols, self.taps.shape[1], self.y.shape[1]):
            share = 0.96 * width / total
            panels.append(fig.add_axes((x0, 0.03, share, 0.68)))
            x0 += share + 0.96 * 2.0 / total
        self.draw_input(panels[0], index, font)
        self.draw_grid(
            panels[1],
            self.taps,
            lambda r, c: _KERNEL,
            font,
            "kernel" if self.correlate else "flipped kernel",
        )
        self.draw_output(panels[2], index, font)
        self.caption(fig, index, window, font)

    def draw_grid(self, ax, values, face, font, title, colour=None):
        rows, cols = values.shape
        ax.set_xlim(-0.05, cols + 0.05)
        ax.set_ylim(max(rows, 1) + 0.05, -0.05)
        ax.set_aspect("equal")
        ax.axis("off")
        ax.set_title(title, fontsize=font + 1)
        for (r, c), v in np.ndenumerate(values):
            _cell(
                ax,
                c,
                r,
                None if v is None else _num(v),
                face(r, c),
                font,
                colour=(colour(r, c) if colour else "black"),
            )

    def draw_input(self, ax, index, font):
        from matplotlib.patches import Rectangle

        gr, gc = self.geometry
        starts = (index[0] * gr.stride, index[1] * gc.stride)

        def face(r, c):
            under = all(
                s <= p < s + g.ke and (p - s) % g.dilation == 0
                for p, s, g in zip((r, c), starts, self.geometry)
            )
            inside = gr.before <= r < gr.before + gr.n and gc.before <= c < gc.before + gc.n
            return _WINDOW if under else _INPUT if inside else _PAD

        self.draw_grid(ax, self.xp, face, font, "padded input (grey: padding)")
        ax.add_patch(
            Rectangle(
                (starts[1], starts[0]), gc.ke, gr.ke, fill=False, edgecolor=_EDGE, linewidth=2.5
            )
        )

    def draw_output(self, ax, index, font):
        def face(r, c):
            if (r, c) not in self.done:
                return "#f7f7f7"
            return _VALID if _valid((r, c), self.geometry) else _OTHER

        shown = np.array(
            [
                [self.y[r, c] if (r, c) in self.done else None for c in range(self.y.shape[1])]
                for r in range(self.y.shape[0])
            ],
            dtype=object,
        )
        self.draw_grid(ax, shown, face, font, "output (green: valid)")
        from matplotlib.patches import Rectangle

        ax.add_patch(
            Rectangle((index[1], index[0]), 1, 1, fill=False, edgecolor=_EDGE, linewidth=2.5)
        )


def check_gif_path(path: str) -> None:
    """An --animate target that is not ``.gif`` is refused before any frame is drawn."""
    if not str(path).lower().endswith(".gif"):
        raise FormatError(f"{path}: --animate writes a GIF; give a name ending in .gif")


def write_gif(frames: list, path: str, duration_ms: int = 900) -> None:
    """Frames as a looping GIF, written atomically (the last frame held three times as long)."""
    from .io.atomic import write_bytes

    check_gif_path(path)
    palette = [frame.quantize(colors=64, dither=0) for frame in frames]  # flat colours: exact
    buffer = io.BytesIO()
    durations = [duration_ms] * (len(frames) - 1) + [3 * duration_ms]
    palette[0].save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=palette[1:],
        duration=durations,
        loop=0,
        disposal=1,
    )
    write_bytes(buffer.getvalue(), path)
