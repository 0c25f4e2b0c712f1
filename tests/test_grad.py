"""convcli.grad: dL/dx, dL/dw and dL/db held against torch.autograd on the same layer."""

import itertools

import numpy as np
import pytest

from convcli import convolve
from convcli.errors import ShapeError
from convcli.geometry import axes
from convcli.grad import conv_grad

torch = pytest.importorskip("torch")
F = torch.nn.functional

MODES_1D = [dict(mode=m) for m in ("full", "same", "valid")] + [dict(pad=2), dict(pad=(0, 3))]
GEOMETRY = list(itertools.product([1, 2, 3], [1, 2]))  # (stride, dilation)
PAD_MODES = ["zeros", "constant", "replicate", "symmetric", "reflect", "circular"]


def _padded(t, pairs, pad_mode, value):
    """Torch padding of the last len(pairs) axes: F.pad where torch has the mode, else a gather."""
    if pad_mode in ("zeros", "constant"):
        flat = [v for b, a in reversed(pairs) for v in (b, a)]
        return F.pad(t, flat, value=value if pad_mode == "constant" else 0.0)
    nd = len(pairs)
    n = t.shape[-nd:]
    index = np.pad(
        np.arange(int(np.prod(n))).reshape(n),
        pairs,
        {"replicate": "edge", "circular": "wrap"}.get(pad_mode, pad_mode),
    )
    flat = t.reshape(t.shape[:-nd] + (-1,))
    return flat[..., torch.as_tensor(index.ravel())].reshape(t.shape[:-nd] + index.shape)


def _torch_grads(
    x, w, dy, nd, kind, pairs, stride, dilation, flip, pad_mode="zeros", value=0.0, bias=None
):
    """dx, dw, db by autograd: x (*n, C) as the engine takes it, w as convcli takes it."""
    xt = torch.tensor(np.asarray(x, float), requires_grad=True)
    wt = torch.tensor(np.asarray(w, float), requires_grad=True)
    xs = xt.reshape(xt.shape[:nd] + (-1,)).movedim(-1, 0)[None]  # (1, C, *n)
    if kind == "bank":  # (K, C, kh, kw)
        weight, groups = wt, 1
    elif kind == "shared":  # every channel through one kernel: channels as the batch
        xs, weight, groups = xs.movedim(1, 0), wt[None, None], 1
    else:  # (*k, C): a group per channel
        weight = wt.movedim(-1, 0)[:, None]
        groups = weight.shape[0]
    if flip:
        weight = torch.flip(weight, tuple(range(2, 2 + nd)))
    conv = F.conv1d if nd == 1 else F.conv2d
    bt = None if bias is None else torch.tensor(np.asarray(bias, float), requires_grad=True)
    y = conv(
        _padded(xs, pairs, pad_mode, value),
        weight,
        bt,
        stride=stride,
        dilation=dilation,
        groups=groups,
    )
    y = y[:, 0] if kind == "shared" else y[0]  # (F, *out)
    y = y.movedim(0, -1)  # (*out, F)
    (y * torch.tensor(np.asarray(dy, float).reshape(y.shape))).sum().backward()
    return xt.grad.numpy(), wt.grad.numpy(), None if bt is None else bt.grad.numpy()


def _pairs(shape, kshape, nd, geo, stride, dilation):
    g = axes(
        shape[:nd], kshape, geo.get("mode"), pad=geo.get("pad"), stride=stride, dilation=dilation
    )
    return [(ax.before, ax.after) for ax in g], tuple(ax.length for ax in g)


def _check(
    x,
    w,
    nd,
    kind,
    geo,
    stride,
    dilation,
    correlate_,
    pad_mode="zeros",
    value=0.0,
    bias=None,
    seed=0,
):
    kshape = w.shape[2:] if kind == "bank" else w.shape[:nd]
    pairs, out = _pairs(x.shape, kshape, nd, geo, stride, dilation)
    channels = w.shape[0] if kind == "bank" else int(np.prod(x.shape[nd:]))
    dy = np.random.default_rng(seed).integers(-3, 4, out + (channels,))
    g = conv_grad(
        x,
        w,
        dy,
        ndim=nd,
        stride=stride,
        dilation=dilation,
        correlate=correlate_,
        pad_mode=pad_mode,
        pad_value=value,
        bias=bias,
        **geo,
    )
    dx, dw, db = _torch_grads(
        x, w, dy, nd, kind, pairs, stride, dilation, not correlate_, pad_mode, value, bias
    )
    np.testing.assert_allclose(g.dx, dx, atol=1e-9)
    np.testing.assert_allclose(g.dw, dw, atol=1e-9)
    if bias is not None:
        np.testing.assert_allclose(g.db, db, atol=1e-9)


@pytest.mark.parametrize("geo", MODES_1D, ids=str)
@pytest.mark.parametrize("stride,dilation", GEOMETRY)
@pytest.mark.parametrize("correlate_", [False, True], ids=["convolve", "correlate"])
def test_1d_gradients_match_autograd_for_every_mode_padding_stride_and_dilation(
    geo, stride, dilation, correlate_
):
    x = np.random.default_rng(1).integers(-4, 5, 11)
    _check(x, np.array([1, -1, 2]), 1, "shared", geo, stride, dilation, correlate_)


@pytest.mark.parametrize("pad_mode", PAD_MODES)
@pytest.mark.parametrize("correlate_", [False, True], ids=["convolve", "correlate"])
def test_1d_gradients_gather_what_every_pad_mode_copied(pad_mode, correlate_):
    x = np.random.default_rng(2).normal(size=9)
    _check(
        x,
        np.array([0.5, -1.0, 2.0, 0.25]),
        1,
        "shared",
        {"pad": (2, 3)},
        2,
        1,
        correlate_,
        pad_mode,
        value=1.5,
    )


def test_an_even_kernel_in_same_mode_matches_autograd():
    x = np.arange(8.0)
    for correlate_ in (False, True):
        _check(x, np.array([1.0, 2.0, -1.0, 3.0]), 1, "shared", {"mode": "same"}, 1, 2, correlate_)


def test_channels_of_a_signal_through_one_kernel_sum_into_its_gradient():
    x = np.random.default_rng(3).integers(-2, 3, (10, 2))
    _check(x, np.array([1, 0, -1]), 1, "shared", {"mode": "full"}, 2, 1, False)


def test_a_stereo_kernel_gives_each_channel_its_own_gradient():
    x = np.random.default_rng(4).integers(-2, 3, (10, 2))
    _check(x, np.array([[1, 2], [0, -1], [3, 1]]), 1, "per-channel", {"mode": "same"}, 1, 2, True)


@pytest.mark.parametrize(
    "geo",
    [dict(mode="full"), dict(mode="same"), dict(mode="valid"), dict(pad=1), dict(pad=(1, 0, 2, 1))],
    ids=str,
)
@pytest.mark.parametrize("stride,dilation", [((1, 1), (1, 1)), ((2, 1), (1, 2)), ((2, 3), (2, 1))])
@pytest.mark.parametrize("correlate_", [False, True], ids=["convolve", "correlate"])
def test_2d_gradients_match_autograd(geo, stride, dilation, correlate_):
    x = np.random.default_rng(5).integers(-3, 4, (7, 8))
    w = np.array([[1, 2, 0], [-1, 3, 1]])
    _check(x, w, 2, "shared", geo, stride, dilation, correlate_)


@pytest.mark.parametrize("pad_mode", PAD_MODES)
def test_2d_gradients_gather_what_every_pad_mode_copied(pad_mode):
    x = np.random.default_rng(6).normal(size=(6, 5))
    _check(
        x,
        np.random.default_rng(7).normal(size=(3, 2)),
        2,
        "shared",
        {"pad": (2, 1, 1, 2)},
        (1, 2),
        (2, 1),
        False,
        pad_mode,
        value=-0.5,
    )


def test_an_image_through_one_kernel_sums_its_channels_into_dw():
    x = np.random.default_rng(8).integers(0, 5, (6, 6, 3))
    _check(x, np.array([[1, 0], [0, -1]]), 2, "shared", {"mode": "same"}, (2, 2), (1, 1), False)


@pytest.mark.parametrize("correlate_", [False, True], ids=["convolve", "correlate"])
def test_a_filter_bank_with_bias_matches_autograd_on_the_tutorial_volume(samples, correlate_):
    x, w = np.load(samples / "volume.npy"), np.load(samples / "bank.npy")
    _check(x, w, 2, "bank", {"pad": 1}, (2, 2), (1, 1), correlate_, bias=[1.0, 0.0])


def test_a_filter_bank_with_dilation_and_replicate_padding_matches_autograd():
    rng = np.random.default_rng(9)
    x, w = rng.normal(size=(7, 6, 2)), rng.normal(size=(3, 2, 2, 3))
    _check(x, w, 2, "bank", {"mode": "same"}, (1, 2), (2, 1), True, "replicate", bias=[0, 1, 2])


def test_hwio_layout_gives_dw_in_hwio_layout(samples):
    x, w = np.load(samples / "volume.npy"), np.load(samples / "bank.npy")
    a = conv_grad(x, w, np.ones((3, 3, 2)), ndim=2, pad=1, stride=2, correlate=True)
    b = conv_grad(
        x,
        w.transpose(2, 3, 1, 0),
        np.ones((3, 3, 2)),
        ndim=2,
        pad=1,
        stride=2,
        correlate=True,
        layout="hwio",
    )
    np.testing.assert_array_equal(b.dw, a.dw.transpose(2, 3, 1, 0))
    np.testing.assert_array_equal(b.dx, a.dx)


def test_integer_inputs_give_exact_integer_gradients():
    g = conv_grad([0, 1, 2, 3, 4], [1, -1, 2], np.ones(7, int), ndim=1, mode="full")
    assert g.dx.dtype.kind == g.dw.dtype.kind == "i"
    assert g.dw.tolist() == [10, 10, 10] and g.dx.tolist() == [2, 2, 2, 2, 2]


def test_the_gradient_is_the_linear_map_read_off_the_forward_pass():
    # dL/dx . e_m is L at x = e_m (L is linear in x); dL/dw likewise in w
    x, w = np.random.default_rng(10).normal(size=9), np.array([1.0, -2.0, 0.5])
    dy = np.random.default_rng(11).normal(size=4)
    g = conv_grad(x, w, dy, ndim=1, pad=1, stride=2, dilation=2)
    eye = np.eye(9)
    expected = [np.sum(dy * convolve(e, w, pad=1, stride=2, dilation=2)) for e in eye]
    np.testing.assert_allclose(g.dx, expected)
    np.testing.assert_allclose(
        np.dot(g.dw, w), np.sum(dy * convolve(x, w, pad=1, stride=2, dilation=2))
    )


def test_dy_of_the_wrong_size_is_an_error_that_gives_both_sizes():
    message = r"^DY has 2 number\(s\) but the output is 3 \(3 numbers\)"
    with pytest.raises(ShapeError, match=message):
        conv_grad([0, 1, 2, 3, 4], [1, -1, 2], [1, 1], ndim=1, mode="valid")


@pytest.mark.parametrize("case", ["shared", "channels", "stereo", "image", "bank"])
def test_the_layer_the_gradients_are_taken_on_gives_the_engines_output(samples, case):
    from convcli.grad import forward, layer

    rng = np.random.default_rng(12)
    x, w, nd, extra = {
        "shared": (rng.integers(-3, 4, 9), np.array([1, -1, 2]), 1, {}),
        "channels": (rng.integers(-3, 4, (9, 2)), np.array([1, -1, 2]), 1, {}),
        "stereo": (rng.integers(-3, 4, (9, 2)), np.array([[1, 2], [0, 1]]), 1, {}),
        "image": (rng.integers(0, 5, (6, 5, 3)), np.array([[1, 0], [2, -1]]), 2, {}),
        "bank": (
            np.load(samples / "volume.npy"),
            np.load(samples / "bank.npy"),
            2,
            {"bias": [1, 0]},
        ),
    }[case]
    options = {"pad": 1, "stride": 2, "dilation": 1}
    lay = layer(x, w, ndim=nd, **options)
    y = convolve(x, w, ndim=nd, **options, **extra)
    np.testing.assert_array_equal(forward(lay, extra.get("bias")).reshape(y.shape), y)
