"""Images in and out: modes, bit depth, alpha, EXIF, rounding, pipes and bad files."""

import io
import subprocess
import sys

import numpy as np
import pytest
import scipy.signal as ss
from PIL import Image

BOX = np.full((3, 3), 1 / 9)


def blur_reference(x):
    """Per-channel 'same' box blur with the edge extended (image files' default padding),
    rounded half to even and clipped to 8 bits."""
    if x.ndim == 2:
        edged = np.pad(x, 1, mode="edge")
        return np.clip(np.rint(ss.convolve2d(edged, BOX, "valid")), 0, 255)
    return np.dstack([blur_reference(x[..., c]) for c in range(x.shape[2])])


def test_gray_photo_blur_matches_scipy_exactly(cli, samples, tmp_path):
    out = tmp_path / "b.png"
    assert cli("conv2d", samples / "camera.png", "-k", "box:3", "-o", out).exit_code == 0
    x = np.asarray(Image.open(samples / "camera.png")).astype(float)
    im = Image.open(out)
    assert im.mode == "L" and im.size == (512, 512)
    np.testing.assert_array_equal(np.asarray(im), blur_reference(x))


def test_rgb_photo_filters_each_channel(cli, samples, tmp_path):
    out = tmp_path / "b.png"
    cli("conv2d", samples / "chelsea.png", "-k", "box:3", "-o", out)
    x = np.asarray(Image.open(samples / "chelsea.png")).astype(float)
    got = np.asarray(Image.open(out)).astype(float)
    assert np.abs(got - blur_reference(x)).max() <= 1  # float32 may round a tie the other way


def test_edges_with_abs_and_gray(cli, samples, tmp_path):
    out = tmp_path / "e.png"
    cli("conv2d", samples / "chelsea.png", "-k", "sobel-x", "--abs", "--gray", "-o", out)
    im = Image.open(out)
    assert im.mode == "L"
    gray = np.asarray(Image.open(samples / "chelsea.png").convert("L")).astype(float)
    edged = np.pad(gray, 1, mode="edge")  # image files' default padding
    expected = np.clip(
        np.rint(np.abs(ss.convolve2d(edged, [[1, 0, -1], [2, 0, -2], [1, 0, -1]], "valid"))), 0, 255
    )
    assert np.abs(np.asarray(im) - expected).max() <= 1


def test_offset_and_normalize(cli, tmp_path):
    Image.fromarray(np.array([[10, 20], [30, 40]], np.uint8)).save(tmp_path / "x.png")
    cli("conv2d", tmp_path / "x.png", "-k", "1", "--normalize", "-o", tmp_path / "n.png")
    assert np.asarray(Image.open(tmp_path / "n.png")).tolist() == [[0, 85], [170, 255]]
    cli("conv2d", tmp_path / "x.png", "-k", "-1", "--offset", "128", "-o", tmp_path / "o.png")
    assert np.asarray(Image.open(tmp_path / "o.png")).tolist() == [[118, 108], [98, 88]]


def test_rounding_is_ties_to_even(cli, tmp_path):
    Image.fromarray(np.array([[1, 3, 5]], np.uint8)).save(tmp_path / "x.png")
    cli("conv2d", tmp_path / "x.png", "-k", "0.5", "-o", tmp_path / "y.png")
    assert np.asarray(Image.open(tmp_path / "y.png")).tolist() == [[0, 2, 2]]


def test_alpha_passes_through_unfiltered_and_is_resampled_by_stride(cli, tmp_path):
    rng = np.random.default_rng(0)
    rgba = rng.integers(0, 256, size=(10, 12, 4), dtype=np.uint8)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "x.png")
    cli("conv2d", tmp_path / "x.png", "-k", "box:3", "--stride", "2", "-o", tmp_path / "y.png")
    y = np.asarray(Image.open(tmp_path / "y.png"))
    assert y.shape == (5, 6, 4)
    np.testing.assert_array_equal(y[..., 3], rgba[::2, ::2, 3])


@pytest.mark.parametrize("mode,dtype", [("I;16", np.uint16), ("L", np.uint8)])
def test_bit_depth_is_kept(cli, tmp_path, mode, dtype):
    x = (np.arange(64).reshape(8, 8) * (1000 if mode == "I;16" else 3)).astype(dtype)
    Image.fromarray(x).save(tmp_path / "x.png")  # uint16 -> I;16, uint8 -> L
    cli("conv2d", tmp_path / "x.png", "-k", "identity", "-o", tmp_path / "y.png")
    im = Image.open(tmp_path / "y.png")
    assert im.mode == mode
    np.testing.assert_array_equal(np.asarray(im), x)


@pytest.mark.parametrize("mode", ["1", "P", "LA", "I", "F", "CMYK"])
def test_every_pillow_mode_reads(cli, tmp_path, mode):
    base = Image.fromarray(np.arange(48, dtype=np.uint8).reshape(6, 8) * 5)
    im = base.convert(mode)
    name = "x.tiff" if mode in ("I", "F", "CMYK") else "x.png"
    im.save(tmp_path / name)
    out = tmp_path / "y.npy"
    assert cli("conv2d", tmp_path / name, "-k", "identity", "-o", out).exit_code == 0
    assert np.load(out).shape[:2] == (6, 8)


def test_float_results_go_to_npy_and_tiff_unclipped(cli, samples, tmp_path):
    cli("conv2d", samples / "camera.png", "-k", "sobel-x", "-o", tmp_path / "g.npy")
    cli("conv2d", samples / "camera.png", "-k", "sobel-x", "-o", tmp_path / "g.tiff")
    g = np.load(tmp_path / "g.npy")
    assert g.min() < -100 and g.max() > 300
    t = Image.open(tmp_path / "g.tiff")
    assert t.mode == "F"
    np.testing.assert_allclose(np.asarray(t), g, rtol=1e-6, atol=1e-3)


def test_a_channel_count_the_format_cannot_hold_suggests_npy(cli, samples, tmp_path):
    bank = np.random.default_rng(0).normal(size=(5, 3, 3, 3))
    np.save(tmp_path / "bank.npy", bank)
    result = cli(
        "conv2d", samples / "chelsea.png", "-k", tmp_path / "bank.npy", "-o", tmp_path / "y.png"
    )
    assert result.exit_code == 1 and "png cannot hold a 5-channel image" in result.output
    assert ".npy" in result.output and not (tmp_path / "y.png").exists()


def test_exif_orientation_is_applied(cli, tmp_path):
    x = np.zeros((4, 6), np.uint8)
    x[0, 0] = 255
    im = Image.fromarray(x)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    im.save(tmp_path / "x.jpg", exif=exif.tobytes(), quality=100)
    cli("conv2d", tmp_path / "x.jpg", "-k", "identity", "-o", tmp_path / "y.png")
    assert Image.open(tmp_path / "y.png").size == (4, 6)


@pytest.mark.parametrize("fmt", ["jpg", "bmp", "gif", "webp", "tiff", "ppm"])
def test_output_formats(cli, samples, tmp_path, fmt):
    out = tmp_path / f"y.{fmt}"
    assert cli("conv2d", samples / "chelsea.png", "-k", "box:3", "-o", out).exit_code == 0
    assert Image.open(out).size == (451, 300)


def test_pipes_sniff_the_format_and_to_forces_one(samples):
    data = (samples / "camera.png").read_bytes()
    p = subprocess.run(
        [sys.executable, "-m", "convcli", "conv2d", "-", "-k", "box:3", "-o", "-", "--to", "jpg"],
        input=data,
        capture_output=True,
    )
    assert p.returncode == 0, p.stderr
    assert Image.open(io.BytesIO(p.stdout)).format == "JPEG"
    p = subprocess.run(
        [sys.executable, "-m", "convcli", "conv2d", "-", "-k", "box:3", "-o", "-"],
        input=data,
        capture_output=True,
    )
    assert Image.open(io.BytesIO(p.stdout)).format == "PNG"
    p = subprocess.run(
        [sys.executable, "-m", "convcli", "conv2d", "-", "-k", "box:3"],
        input=data,
        capture_output=True,
        text=False,
    )  # a pipe: PNG bytes
    assert p.returncode == 0 and Image.open(io.BytesIO(p.stdout)).format == "PNG"


@pytest.mark.parametrize(
    "content,message",
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(30), "bad.png: corrupt or unreadable image"),
        (b"\xff\xd8\xff\xe0garbage", "bad.png: corrupt or unreadable image"),
    ],
)
def test_corrupt_images_are_one_line(cli, tmp_path, content, message):
    (tmp_path / "bad.png").write_bytes(content)
    result = cli("conv2d", tmp_path / "bad.png", "-k", "1", "-o", tmp_path / "y.png")
    assert result.exit_code == 1 and message in result.output


def test_truncated_image(cli, samples, tmp_path):
    data = (samples / "chelsea.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    result = cli("conv2d", tmp_path / "cut.png", "-k", "1", "-o", tmp_path / "y.png")
    assert result.exit_code == 1 and "truncated" in result.output


def test_decompression_bomb_is_refused(cli, tmp_path, monkeypatch):
    Image.fromarray(np.zeros((100, 100), np.uint8)).save(tmp_path / "big.png")
    import convcli.io.image

    monkeypatch.setattr(convcli.io.image, "MAX_PIXELS", 5000)
    result = cli("conv2d", tmp_path / "big.png", "-k", "1", "-o", tmp_path / "y.png")
    assert result.exit_code == 1 and "decompression-bomb limit of 5,000 pixels" in result.output


def test_unknown_formats_list_what_is_supported(cli, tmp_path):
    (tmp_path / "x.bin").write_bytes(b"\x00\x01\x02garbage")
    result = cli("conv2d", tmp_path / "x.bin", "-k", "1", "-o", tmp_path / "y.png")
    assert result.exit_code == 1 and "supported: txt, csv, json, npy, wav" in result.output
    result = cli("conv2d", "-", "-k", "1", "-o", tmp_path / "y.xyz", input="1 2")
    assert result.exit_code == 1 and "use --to" in result.output


def test_an_unwritable_output_folder(cli, samples, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    result = cli("conv2d", samples / "camera.png", "-k", "1", "-o", locked / "y.png")
    locked.chmod(0o700)
    import os

    if os.geteuid() != 0:  # root writes anywhere
        assert result.exit_code == 1 and "cannot be written" in result.output


def test_batch_of_photos_into_a_folder(cli, samples, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    result = cli(
        "conv2d",
        samples / "camera.png",
        samples / "chelsea.png",
        "-k",
        "box:3",
        "-o",
        f"{out}/",
        "-j",
        "2",
        "--to",
        "jpg",
    )
    assert result.exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == ["camera.jpg", "chelsea.jpg"]


def test_images_and_audio_do_not_turn_into_each_other(cli, samples, tmp_path):
    result = cli("conv2d", samples / "camera.png", "-k", "1", "-o", tmp_path / "x.wav")
    assert result.exit_code == 1 and "is image; it cannot be written as wav" in result.output
    result = cli("conv1d", samples / "speech.wav", "-k", "1", "-o", tmp_path / "x.png")
    assert result.exit_code == 1 and "is audio; it cannot be written as png" in result.output
    assert not list(tmp_path.iterdir())


# --- what the file holds comes through (libvips route and in-memory route alike)


def _vips(path):
    import pyvips

    return pyvips.Image.new_from_file(str(path))


def _tagged_photo(samples, path, **save):
    import pyvips
    from PIL import ImageCms

    im = pyvips.Image.new_from_file(str(samples / "chelsea.png")).copy(
        xres=300 / 25.4, yres=300 / 25.4
    )
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    im.set_type(pyvips.GValue.blob_type, "icc-profile-data", icc)
    im.set_type(
        pyvips.GValue.blob_type,
        "xmp-data",
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>',
    )
    im.set_type(pyvips.GValue.gstr_type, "exif-ifd0-Make", "convcli test camera")
    im.write_to_file(str(path), **save)
    return icc


@pytest.mark.parametrize("ext", ["jpg", "png", "tiff", "webp"])
@pytest.mark.parametrize("route", [[], ["--method", "fft"]], ids=["strips", "in-memory"])
def test_exif_icc_xmp_and_resolution_are_carried(cli, samples, tmp_path, ext, route):
    icc = _tagged_photo(samples, tmp_path / f"in.{ext}")
    result = cli(
        "conv2d", tmp_path / f"in.{ext}", "-k", "box:3", "-o", tmp_path / f"y.{ext}", *route
    )
    assert result.exit_code == 0, result.output
    out = _vips(tmp_path / f"y.{ext}")
    assert out.get("icc-profile-data") == icc
    assert b"xmpmeta" in out.get("xmp-data")
    if ext != "tiff":  # libvips keeps a TIFF's own tags, not an EXIF block
        assert "convcli test camera" in out.get("exif-ifd0-Make")
    if ext != "webp":  # WebP stores no resolution
        assert out.get("xres") == pytest.approx(300 / 25.4, rel=1e-3)


def test_jpeg_quality_is_the_inputs_own_unless_given(cli, samples, tmp_path):
    from convcli.io.jpeg import jpeg_quality

    _tagged_photo(samples, tmp_path / "in.jpg", Q=87)
    assert jpeg_quality(str(tmp_path / "in.jpg")) == 87
    cli("conv2d", tmp_path / "in.jpg", "-k", "box:3", "-o", tmp_path / "same.jpg")
    assert jpeg_quality(str(tmp_path / "same.jpg")) == 87
    cli("conv2d", tmp_path / "in.jpg", "-k", "box:3", "-o", tmp_path / "q60.jpg", "--quality", "60")
    assert jpeg_quality(str(tmp_path / "q60.jpg")) == 60
    assert (
        cli(
            "conv2d", tmp_path / "in.jpg", "-k", "1", "--quality", "0", "-o", tmp_path / "x.jpg"
        ).exit_code
        == 2
    )


@pytest.mark.parametrize("ext", ["png", "tiff"])
@pytest.mark.parametrize("route", [[], ["--method", "fft"]], ids=["strips", "in-memory"])
def test_sixteen_bit_rgb_stays_sixteen_bit(cli, tmp_path, ext, route):
    import pyvips

    x = (np.random.default_rng(3).random((20, 30, 3)) * 65535).astype(np.uint16)
    pyvips.Image.new_from_array(x).copy(interpretation="rgb16").write_to_file(
        str(tmp_path / f"in.{ext}")
    )
    assert (
        cli(
            "conv2d", tmp_path / f"in.{ext}", "-k", "box:3", "-o", tmp_path / f"y.{ext}", *route
        ).exit_code
        == 0
    )
    out = _vips(tmp_path / f"y.{ext}")
    assert (out.format, out.bands) == ("ushort", 3)
    edged = np.pad(x.astype(float), ((1, 1), (1, 1), (0, 0)), mode="edge")
    expected = np.stack(
        [ss.convolve2d(edged[..., c], np.ones((3, 3)) / 9, "valid") for c in range(3)], axis=2
    )
    np.testing.assert_allclose(out.numpy(), np.rint(expected), atol=1)


@pytest.mark.parametrize("ext", ["tiff", "gif"])
def test_every_page_or_frame_is_filtered_on_its_own(cli, tmp_path, ext):
    import pyvips

    rng = np.random.default_rng(4)
    pages = [(rng.random((24, 32)) * 255).astype(np.uint8) for _ in range(3)]
    pages = [np.dstack([p, p, p]) for p in pages] if ext == "gif" else pages
    tall = pyvips.Image.new_from_array(np.concatenate(pages)).copy()
    tall = tall.copy(interpretation="srgb") if ext == "gif" else tall
    tall.set_type(pyvips.GValue.gint_type, "page-height", 24)
    tall.write_to_file(str(tmp_path / f"in.{ext}"))
    assert (
        cli(
            "conv2d",
            tmp_path / f"in.{ext}",
            "-k",
            "box:3",
            "--mode",
            "valid",
            "-o",
            tmp_path / f"y.{ext}",
        ).exit_code
        == 0
    )
    out = pyvips.Image.new_from_file(str(tmp_path / f"y.{ext}"), n=-1)
    assert (out.get("n-pages"), out.get("page-height"), out.width) == (3, 22, 30)
    if ext == "tiff":  # one grey channel: a float TIFF; each page from its own page only
        got = out.numpy().reshape(3, 22, 30)
        for page, y in zip(pages, got):
            expected = ss.convolve2d(page.astype(float), np.ones((3, 3)) / 9, "valid")
            np.testing.assert_allclose(y, expected, rtol=1e-6)


def test_cmyk_stays_cmyk_where_the_format_holds_it(cli, samples, tmp_path):
    Image.open(samples / "chelsea.png").convert("CMYK").save(tmp_path / "c.jpg", quality=95)
    assert cli("conv2d", tmp_path / "c.jpg", "-k", "box:3", "-o", tmp_path / "y.jpg").exit_code == 0
    assert _vips(tmp_path / "y.jpg").interpretation == "cmyk"
    assert cli("conv2d", tmp_path / "c.jpg", "-k", "box:3", "-o", tmp_path / "y.png").exit_code == 0
    out = _vips(tmp_path / "y.png")
    assert (out.interpretation, out.bands) == ("srgb", 3)
