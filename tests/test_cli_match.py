"""``convcli match``: the lines and JSON it prints, the files it writes, and its refusals."""

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from PIL import Image


@pytest.fixture
def folder(tmp_path, samples):
    """speech.wav with a half-second jingle cut from it and a copy 0.1 s late; the photo
    with a piece cut from it."""
    x, rate = sf.read(samples / "speech.wav")
    sf.write(tmp_path / "speech.wav", x, rate, subtype="PCM_16")
    sf.write(tmp_path / "jingle.wav", x[33075 : 33075 + rate // 2], rate, subtype="PCM_16")
    sf.write(tmp_path / "late.wav", np.r_[np.zeros(2205), x][: len(x)], rate, subtype="PCM_16")
    photo = Image.open(samples / "chelsea.png")
    photo.save(tmp_path / "photo.png")
    photo.crop((200, 80, 248, 120)).save(tmp_path / "piece.png")
    return tmp_path


def test_a_jingle_is_found_at_its_sample_and_time(cli, folder):
    r = cli("match", folder / "jingle.wav", folder / "speech.wav")
    assert r.exit_code == 0
    assert r.output == f"{folder / 'speech.wav'}: sample 33075 (1.500 s), r=1.000\n"


def test_a_piece_of_a_photo_is_found_at_its_corner_with_its_size(cli, folder):
    r = cli("match", folder / "piece.png", folder / "photo.png", "--top", "2")
    lines = r.output.splitlines()
    assert lines[0] == f"{folder / 'photo.png'}: x=200 y=80 (48x40), r=1.000"
    assert len(lines) == 2 and r.exit_code == 0


def test_json_names_the_file_and_gives_position_box_and_score(cli, folder):
    r = cli("match", folder / "piece.png", folder / "photo.png", "--json")
    (found,) = json.loads(r.output)
    assert found["path"] == str(folder / "photo.png")
    assert found["position"] == [200, 80] and found["box"] == [200, 80, 48, 40]
    assert found["score"] == pytest.approx(1.0, abs=1e-6)
    r = cli("match", folder / "jingle.wav", folder / "speech.wav", "--json")
    assert json.loads(r.output)[0]["time"] == pytest.approx(1.5)


def test_other_scores_print_their_name_and_sqdiff_finds_the_minimum(cli, folder):
    r = cli("match", folder / "piece.png", folder / "photo.png", "--score", "sqdiff")
    assert r.output.startswith(f"{folder / 'photo.png'}: x=200 y=80 (48x40), sqdiff=0")


def test_the_delay_between_two_copies_is_in_samples_and_seconds(cli, folder):
    r = cli("match", folder / "speech.wav", folder / "late.wav", "--delay")
    assert r.output == (
        f"{folder / 'late.wav'}: 2205 samples (0.100 s) behind "
        f"{folder / 'speech.wav'}, xcorr=1.000\n"
    )
    r = cli("match", folder / "late.wav", folder / "speech.wav", "--delay", "--json")
    assert json.loads(r.output)[0]["delay"] == -2205


def test_align_writes_the_late_copy_lined_up(cli, folder):
    out = folder / "aligned.wav"
    r = cli("match", folder / "speech.wav", folder / "late.wav", "--align", out)
    assert r.exit_code == 0
    a, _ = sf.read(folder / "speech.wav")
    b, rate = sf.read(out)
    assert rate == 22050 and len(b) == len(a)
    np.testing.assert_array_equal(b[: len(a) - 2205], a[: len(a) - 2205])


def test_standard_input_cannot_be_both_template_and_input(cli):
    r = cli("match", "-", "-", "--lags", input="1 2 3\n")
    assert r.exit_code == 2 and "not both" in r.output


def test_lags_of_a_file_against_itself_peak_at_zero(cli, tmp_path):
    (tmp_path / "a.txt").write_text("1 2 3\n")
    r = cli("match", tmp_path / "a.txt", tmp_path / "a.txt", "--lags")
    assert r.output.splitlines() == [
        "-2 0.214286",
        "-1 0.571429",
        "0 1",
        "1 0.571429",
        "2 0.214286",
    ]


def test_steps_show_each_windows_mean_norm_products_and_r(cli, samples):
    r = cli("match", "-", samples / "signal.txt", "--steps", input="1 2 3\n")
    assert r.exit_code == 0
    assert "window 2 (samples 2-4): 2 3 4  mean 3\n  x - mean: -1 0 1  norm 1.4142" in r.output
    assert r.output.endswith(f"{samples / 'signal.txt'}: sample 0, r=1.000\n")


def test_steps_on_a_long_signal_is_an_error_that_says_why(cli, folder):
    r = cli("match", folder / "jingle.wav", folder / "speech.wav", "--steps")
    assert r.exit_code == 1
    assert r.output.startswith("Error: --steps shows at most 64 windows; this match has ")


def test_map_writes_float_npy_and_a_png_picture(cli, folder):
    cli("match", folder / "piece.png", folder / "photo.png", "--map", folder / "map.npy")
    m = np.load(folder / "map.npy")
    assert m.shape == (300 - 40 + 1, 451 - 48 + 1) and m.max() == pytest.approx(1, abs=1e-6)
    r = cli("match", folder / "piece.png", folder / "photo.png", "--map", folder / "map.png")
    assert r.exit_code == 0
    assert Image.open(folder / "map.png").size == (451 - 48 + 1, 300 - 40 + 1)


def test_mark_draws_boxes_on_images_and_a_plot_for_audio(cli, folder):
    cli("match", folder / "piece.png", folder / "photo.png", "--mark", folder / "found.png")
    marked = np.asarray(Image.open(folder / "found.png"))
    assert marked.shape == (300, 451, 3) and tuple(marked[100, 200]) == (255, 0, 0)
    r = cli("match", folder / "jingle.wav", folder / "speech.wav", "--mark", folder / "s.png")
    assert r.exit_code == 0 and Image.open(folder / "s.png").format == "PNG"


def test_a_transparent_templates_alpha_is_a_mask(cli, folder):
    piece = np.asarray(Image.open(folder / "piece.png")).copy()
    alpha = np.full(piece.shape[:2], 255, np.uint8)
    alpha[10:30, 10:30] = 0
    piece[10:30, 10:30] = 0  # hidden: it must not count
    Image.fromarray(np.dstack([piece, alpha])).save(folder / "holed.png")
    r = cli("match", folder / "holed.png", folder / "photo.png")
    assert r.output.endswith("x=200 y=80 (48x40), r=1.000\n")


def test_a_colour_template_in_a_grey_image_asks_for_gray(cli, folder, samples):
    r = cli("match", folder / "piece.png", samples / "camera.png")
    assert r.exit_code == 1
    assert r.output.strip().endswith("camera.png one: give --gray")
    assert cli("match", folder / "piece.png", samples / "camera.png", "--gray").exit_code == 0


def test_a_template_larger_than_the_input_is_an_error_with_both_sizes(cli, folder):
    r = cli("match", folder / "photo.png", folder / "piece.png")
    assert r.exit_code == 1
    assert r.output == "Error: the template (300x451) is larger than the input (40x48)\n"


def test_a_threshold_takes_every_match_past_it_and_none_says_so(cli, tmp_path):
    (tmp_path / "x.txt").write_text("0 1 2 0 0 1 2 0 5 0 1 2\n")
    (tmp_path / "t.txt").write_text("0 1 2\n")
    r = cli("match", tmp_path / "t.txt", tmp_path / "x.txt", "--threshold", "0.99")
    assert [line.split(": ")[1] for line in r.output.splitlines()] == [
        "sample 0, r=1.000",
        "sample 4, r=1.000",
        "sample 9, r=1.000",
    ]
    r = cli("match", tmp_path / "t.txt", tmp_path / "x.txt", "--threshold", "1.5")
    assert r.output == f"{tmp_path / 'x.txt'}: no match (best r=1.000)\n"


def test_a_batch_prints_every_file_in_order_and_reports_a_failing_one(cli, folder, samples):
    inputs = [folder / "photo.png", samples / "camera.png", folder / "photo.png"]
    r = cli("match", folder / "piece.png", *inputs, "-j", "2")
    assert r.exit_code == 1
    assert r.output.count("x=200 y=80") == 2
    assert "Error: " in r.output and "1 of 3 file(s) failed" in r.output


def test_a_clip_reencoded_as_mp3_in_noise_at_0_db_is_found_within_one_sample(folder):
    x, rate = sf.read(folder / "speech.wav")
    sf.write(folder / "clip.mp3", x[60000 : 60000 + rate], rate, format="MP3")
    noise = np.random.default_rng(0).standard_normal(len(x)) * np.sqrt(np.mean(x * x))
    noisy = x + noise  # as loud as the speech: 0 dB SNR
    sf.write(folder / "noisy.wav", noisy / np.abs(noisy).max() * 0.9, rate, subtype="FLOAT")
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "convcli",
            "match",
            "clip.mp3",
            "noisy.wav",
            "--json",
            "--subsample",
        ],
        cwd=folder,
        capture_output=True,
        text=True,
    )
    (found,) = json.loads(p.stdout)
    assert abs(found["position"] - 60000) <= 1


def test_the_python_api_is_exported():
    import convcli

    assert "match" in convcli.__all__ and "xcorr" in convcli.__all__
    assert [m.position for m in convcli.match([1, 2, 3], [0, 5, 1, 2, 3, 1])] == [(2,)]


@pytest.fixture
def long_audio(tmp_path):
    """A stereo WAV of 2**20 + 5000 frames at 8 kHz (speech-like noise, a clip repeated in
    it), the clip, and a copy 300 frames late."""
    rate, n = 8000, (1 << 20) + 5000
    rng = np.random.default_rng(9)
    x = 0.2 * rng.standard_normal((n, 2))
    clip = x[777_777 : 777_777 + 1600].copy()
    for at in (50_000, 300_123, 1_000_000):
        x[at : at + 1600] += 0.8 * clip
    sf.write(tmp_path / "long.wav", np.clip(x, -1, 1), rate, subtype="PCM_16")
    y, _ = sf.read(tmp_path / "long.wav")
    sf.write(tmp_path / "clip.wav", y[777_777 : 777_777 + 1600], rate, subtype="PCM_16")
    sf.write(tmp_path / "late.wav", np.r_[np.zeros((300, 2)), y][:n], rate, subtype="PCM_16")
    return tmp_path


def _both(cli, monkeypatch, *args):
    """The output of ``convcli match ARGS`` in blocks, then in memory."""
    from convcli.job import matchstream

    streamed = cli("match", *args)
    monkeypatch.setattr(matchstream, "STREAM_MIN_FRAMES", 1 << 40)
    whole = cli("match", *args)
    monkeypatch.undo()
    assert streamed.exit_code == whole.exit_code == 0, (streamed.output, whole.output)
    return streamed.output, whole.output


def test_long_audio_in_blocks_finds_what_the_whole_signal_does(cli, long_audio, monkeypatch):
    from convcli.job import matchstream

    assert matchstream.streams(str(long_audio / "long.wav"), "wav", _settings())
    for extra in (["--subsample"], ["--top", "5"], ["--threshold", "0.5", "--subsample"]):
        args = (long_audio / "clip.wav", long_audio / "long.wav", "--json", *extra)
        streamed, whole = (json.loads(out) for out in _both(cli, monkeypatch, *args))
        assert len(streamed) == len(whole) >= 1
        for a, b in zip(streamed, whole):
            assert a["position"] == pytest.approx(b["position"], abs=1e-3)
            assert a["score"] == pytest.approx(b["score"], abs=1e-6)  # float32 transforms
    assert round(streamed[0]["position"]) == 777_777
    assert [round(m["position"]) for m in whole] == [777_777, 300_123, 1_000_000, 50_000]


def test_long_audio_writes_the_map_the_plot_and_the_delay_in_blocks(cli, long_audio, monkeypatch):
    a, b = long_audio / "a.npy", long_audio / "b.npy"
    clip, long = long_audio / "clip.wav", long_audio / "long.wav"
    cli("match", clip, long, "--map", a, "--mark", long_audio / "a.png")
    _both(cli, monkeypatch, clip, long, "--map", b)  # the map in memory written last
    np.testing.assert_allclose(np.load(a), np.load(b), atol=1e-6)
    assert Image.open(long_audio / "a.png").size[0] > 600
    late = long_audio / "late.wav"
    streamed, whole = _both(cli, monkeypatch, long, late, "--delay")
    assert streamed == whole and "300 samples (0.037 s) behind" in streamed
    cli("match", long, late, "--align", long_audio / "in-blocks.wav")
    aligned, original = sf.read(long_audio / "in-blocks.wav")[0], sf.read(long)[0]
    assert np.array_equal(aligned[:-300], original[:-300]) and not aligned[-300:].any()


def test_long_audio_from_a_pipe_streams_as_a_file_does(long_audio):
    with open(long_audio / "long.wav", "rb") as f:
        p = subprocess.run(
            [sys.executable, "-m", "convcli", "match", "clip.wav", "-", "--top", "2", "-v"],
            cwd=long_audio,
            stdin=f,
            capture_output=True,
            text=True,
        )
    assert p.returncode == 0, p.stderr
    assert "in blocks of" in p.stderr
    assert p.stdout.startswith("-: sample 777777 (97.222 s), r=1.000\n-: sample 300123")


def test_long_audio_refuses_what_it_cannot_stream_before_any_work(cli, long_audio):
    clip, long = long_audio / "clip.wav", long_audio / "long.wav"
    r = cli("match", clip, long, "--map", long_audio / "m.txt")
    assert r.exit_code == 1 and r.output.startswith("Error: ") and "as .npy" in r.output
    r = cli("match", clip, long, "--map", long_audio / "m.png")
    assert r.exit_code == 1 and "a 1-D score map is numbers" in r.output
    r = cli("match", long, long_audio / "late.wav", "--lags")
    assert r.exit_code == 2 and "more than 2,097,152" in r.output
    r = cli("match", long, long_audio / "late.wav", "--align", long_audio / "no" / "a.wav")
    assert (
        r.exit_code == 1
        and r.output
        == f"Error: {long_audio / 'no' / 'a.wav'}: the folder {long_audio / 'no'} does not exist\n"
    )
    assert not list(long_audio.glob("m.*"))


def _settings(**kw):
    from convcli.job.match import MatchSettings

    return MatchSettings(**kw)


def test_help_says_windows_without_variance_score_zero_and_has_examples(cli):
    r = cli("match", "--help")
    text = " ".join(r.output.split())
    assert "no variance scores 0, never NaN" in text
    assert "Examples:" in r.output and r.exit_code == 0


def test_a_large_image_in_strips_gives_what_the_whole_image_does(
    cli, tmp_path, monkeypatch, samples
):
    from convcli.job import matchstrips

    big = Image.open(samples / "chelsea.png").resize((320, 700))
    big.save(tmp_path / "big.png")
    big.crop((100, 400, 132, 424)).save(tmp_path / "piece.png")
    monkeypatch.setattr(matchstrips, "STRIP_MIN_PIXELS", 0)
    for extra in (["--top", "4", "--subsample"], ["--threshold", "0.35", "--gray"]):
        args = ("match", tmp_path / "piece.png", tmp_path / "big.png", "--json", *extra)
        strips = json.loads(cli(*args, "--map", tmp_path / "strips.npy").output)
        with monkeypatch.context() as m:
            m.setattr(matchstrips, "STRIP_MIN_PIXELS", 1 << 40)
            whole = json.loads(cli(*args, "--map", tmp_path / "whole.npy").output)
        assert len(strips) == len(whole) > 1
        for a, b in zip(strips, whole):
            assert a["position"] == pytest.approx(b["position"], abs=1e-3)
            assert a["score"] == pytest.approx(b["score"], abs=1e-5)
        np.testing.assert_allclose(
            np.load(tmp_path / "strips.npy"), np.load(tmp_path / "whole.npy"), atol=1e-5
        )
    assert strips[0]["position"] == [100, 400]
    r = cli("match", tmp_path / "piece.png", tmp_path / "big.png", "-v")
    assert "320x700x3 in strips of 256 rows" in r.output and "x=100 y=400 (32x24)" in r.output


@pytest.mark.parametrize("mode", ["RGB", "I;16", "L"])
def test_a_large_image_is_marked_in_strips_as_the_whole_image_marks_it(
    cli, tmp_path, monkeypatch, samples, mode
):
    from convcli.job import matchstrips

    big = Image.open(samples / "chelsea.png").resize((320, 700))
    if mode == "I;16":
        grey = np.asarray(big.convert("L"), dtype=np.uint16) * 257
        big = Image.fromarray(grey)
    else:
        big = big.convert(mode)
    big.save(tmp_path / "big.png")
    big.crop((100, 0, 132, 24)).save(tmp_path / "piece.png")  # at the top: the label below it
    args = ("match", tmp_path / "piece.png", tmp_path / "big.png", "--top", "3", "-v")
    monkeypatch.setattr(matchstrips, "STRIP_MIN_PIXELS", 0)
    strips = cli(*args, "--mark", tmp_path / "strips.png")
    assert "in strips of" in strips.output and "x=100 y=0 (32x24)" in strips.output
    monkeypatch.setattr(matchstrips, "STRIP_MIN_PIXELS", 1 << 40)
    whole = cli(*args, "--mark", tmp_path / "whole.png")
    assert "in strips of" not in whole.output
    a, b = (np.asarray(Image.open(tmp_path / f"{n}.png")) for n in ("strips", "whole"))
    assert a.shape == b.shape == (700, 320, 3)
    np.testing.assert_array_equal(a, b)
    assert (a[0:24, 100] == (255, 0, 0)).all()  # the box's left edge, in red
