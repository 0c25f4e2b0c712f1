"""The format table: everything about formats derives from its rows."""

import subprocess
import sys

import pytest

from convcli.errors import FormatError
from convcli.io import registry

MAGIC = {
    "wav": b"RIFF\x00\x00\x00\x00WAVEfmt ",
    "webp": b"RIFF\x00\x00\x00\x00WEBPVP8 ",
    "flac": b"fLaC\x00",
    "ogg": b"OggS\x00",
    "aiff": b"FORM\x00\x00\x00\x00AIFF",
    "mp3": b"ID3\x04\x00",
    "png": b"\x89PNG\r\n\x1a\n",
    "jpg": b"\xff\xd8\xff\xe0",
    "tiff": b"II*\x00",
    "bmp": b"BM\x00\x00",
    "gif": b"GIF89a",
    "pgm": b"P5\n",
    "ppm": b"P6\n",
    "npy": b"\x93NUMPY\x01\x00",
    "json": b"  [[1, 2]]",
    "txt": b"1 2 3\n",
}


@pytest.mark.parametrize("name", sorted(MAGIC))
def test_sniffing_finds_each_format_from_its_first_bytes(name):
    assert registry.sniff(MAGIC[name]) == name


@pytest.mark.parametrize("name", registry.NAMES)
def test_every_extension_names_its_own_format(name):
    for ext in registry.FORMATS[name].extensions:
        assert registry.by_extension(f"some/file{ext.upper()}") == name


def test_aliases_and_unknown_names():
    assert registry.canonical("JPEG") == "jpg" and registry.canonical(".tif") == "tiff"
    with pytest.raises(FormatError, match="supported: txt, csv, json, npy, wav"):
        registry.canonical("docx")


def test_unknown_binary_data_lists_what_is_supported():
    with pytest.raises(FormatError, match=registry.names()):
        registry.sniff(b"\x00\x01garbage")


def test_every_reader_and_writer_exists():
    for name in registry.NAMES:
        if registry.kind_of(name) != "chunked":
            assert callable(registry.reader(name)) and callable(registry.writer(name))


def test_the_cli_offers_exactly_the_tables_formats():
    from convcli.cli.options import FORMAT_NAMES

    assert tuple(FORMAT_NAMES) == registry.NAMES


def test_the_table_imports_no_reader():
    code = (
        "import sys, convcli.io.registry, convcli.io.files; "
        "print(sorted(m for m in sys.modules if m.startswith(('convcli.io.', 'PIL', "
        "'soundfile', 'pyvips'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    assert out.strip() == "['convcli.io.data', 'convcli.io.files', 'convcli.io.registry']"
