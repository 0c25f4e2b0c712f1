"""The shipped MNIST subset is package data: it lives inside the package and setup.cfg ships it."""

import configparser
import pathlib

import convcli
from convcli.nn import data

PACKAGE = pathlib.Path(convcli.__file__).resolve().parent


def test_the_subset_lives_inside_the_package_and_installs_with_it():
    assert data.SHIPPED.is_relative_to(PACKAGE)
    assert sorted(p.name for p in data.SHIPPED.glob("*.gz")) == sorted(data.FILES)
    config = configparser.ConfigParser()
    config.read(PACKAGE.parent / "setup.cfg")
    pattern = config["options.package_data"]["convcli"].strip()
    assert sorted(p.name for p in PACKAGE.glob(pattern)) == sorted(data.FILES)


def test_without_a_cache_training_data_is_the_shipped_subset(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    folder, where = data.default_folder()
    assert folder == data.SHIPPED and where.startswith("the MNIST subset shipped in samples/")
