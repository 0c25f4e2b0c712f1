"""The CNN builder: every spec outsize sizes either builds or is refused with one clear error."""

import numpy as np
import pytest

from convcli.errors import SpecError
from convcli.nn import Network


@pytest.mark.parametrize("arch, message", [
    ("convT:k=2,n=4 flatten fc:n=10", "convT:k=2,n=4: transposed convolution is for outsize"),
    ("conv:k=3,n=4,bias=false flatten fc:n=10", "bias=false is for outsize only"),
    ("conv:k=2,n=4,p=same flatten fc:n=10", "p=same with an even kernel pads unevenly"),
    ("conv:k=3,n=4 softmax fc:n=10", "softmax can only end the network"),
])
def test_specs_the_cnn_cannot_train_are_refused(arch, message):
    with pytest.raises(SpecError, match=message):
        Network(arch)


def test_same_padding_global_pooling_and_a_final_softmax_build_and_run():
    net = Network("conv:k=3,n=4,p=same relu globalavgpool fc:n=10 softmax", seed=0)
    x = np.random.default_rng(0).random((2, 28, 28, 1), dtype=np.float32)
    scores = net.forward(x, train=True)
    assert scores.shape == (2, 10)
    net.backward(np.ones_like(scores))
    assert all(g.shape == p.shape for g, p in zip(net.grads(), net.params()))


def test_train_mnist_refuses_convT_with_one_error_line(cli):
    result = cli("train-mnist", "--arch", "convT:k=2,n=4 flatten fc:n=10", "--epochs", "1")
    assert result.exit_code == 1
    assert result.output.splitlines()[-1].startswith(
        "Error: convT:k=2,n=4: transposed convolution is for outsize only")
