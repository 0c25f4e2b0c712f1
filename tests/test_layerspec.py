"""Layer specs: parsing, shapes, parameters and MACs against torch and torchinfo's rules."""

import pytest

from convcli.errors import SpecError
from convcli.layerspec import parse_layer, parse_network, plan

torch = pytest.importorskip("torch")


def test_keys_parse_to_numbers_flags_and_words():
    spec = parse_layer("conv:k=5x3,n=6,p=same,bias=false")
    assert spec.params == {"k": (5, 3), "n": 6, "p": "same", "bias": False}
    assert parse_layer("maxpool:k=2,ceil").params == {"k": 2, "ceil": True}


@pytest.mark.parametrize(
    "text, message",
    [
        ("conv:k=3,n=4,bias=maybe", "bias=maybe must be true or false"),
        ("maxpool:k=2,p=same", "p=same needs a conv layer of stride 1"),
        ("fc:n=10,k=3", "unknown key 'k'"),
        ("pool:k=2", "unknown layer 'pool'"),
    ],
)
def test_bad_specs_say_what_is_wrong(text, message):
    with pytest.raises(SpecError, match=message):
        parse_layer(text)


def test_parameters_and_shapes_match_torch_modules():
    nn = torch.nn
    net = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding="same", bias=False),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.MaxPool2d(2, ceil_mode=True),
        nn.Conv2d(8, 4, 2, 2, 1),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(4, 10),
        nn.Softmax(1),
    )
    infos = plan(
        (15, 15, 3),
        parse_network(
            [
                "conv:k=3,n=8,p=same,bias=false batchnorm relu maxpool:k=2,ceil "
                "conv:k=2,n=4,s=2,p=1 globalavgpool flatten fc:n=10 softmax"
            ]
        ),
    )
    assert sum(i.params for i in infos) == sum(p.numel() for p in net.parameters())
    x = torch.zeros(1, 3, 15, 15)
    for module, info in zip(net, infos):
        x = module(x)
        shape = tuple(x.shape[2:]) + (x.shape[1],) if x.ndim == 4 else tuple(x.shape[1:])
        assert shape == info.output_shape, info.spec.text


def test_macs_count_as_torchinfo_does():
    conv, fc = plan((8, 8, 2), parse_network(["conv:k=3,n=4", "fc:n=5"]))
    assert conv.macs == (2 * 4 * 9 + 4) * 6 * 6  # parameters times output positions
    assert fc.macs == 6 * 6 * 4 * 5 + 5
    assert conv.activation_bytes == 4 * 6 * 6 * 4
