"""Audio files in and out, and the streaming path against the in-memory result."""

import shutil
import subprocess

import numpy as np
import pytest
import scipy.signal as ss
import soundfile as sf

import convcli.routes.blocks as audiostream


@pytest.fixture
def wavs(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.uniform(-0.4, 0.4, size=(30_000, 2))
    ir = rng.normal(size=(2_000, 2)) * np.exp(-np.arange(2000) / 300)[:, None] * 0.02
    sf.write(tmp_path / "x.wav", x, 8000, subtype="FLOAT")
    sf.write(tmp_path / "ir.wav", ir, 8000, subtype="FLOAT")
    return tmp_path, x.astype(np.float32).astype(float), ir.astype(np.float32).astype(float)


def test_stereo_impulse_response_filters_each_channel_with_its_own_column(cli, wavs):
    path, x, ir = wavs
    assert cli("conv1d", path / "x.wav", "-k", path / "ir.wav", "-o", path / "y.wav").exit_code == 0
    y, rate = sf.read(path / "y.wav")
    assert rate == 8000 and sf.info(path / "y.wav").subtype == "FLOAT"
    for c in range(2):
        np.testing.assert_allclose(y[:, c], ss.convolve(x[:, c], ir[:, c]), atol=1e-6)


def test_mono_speech_through_a_stereo_response_is_refused_with_the_way_out(cli, samples, tmp_path):
    result = cli(
        "conv1d",
        samples / "speech.wav",
        "-k",
        samples / "room-ir.wav",
        "-o",
        tmp_path / "reverb.wav",
    )
    assert result.exit_code == 1 and not (tmp_path / "reverb.wav").exists()
    assert "the kernel has 2 channels but the input has 1; give a mono kernel" in result.output


def test_reverb_on_the_shipped_speech_matches_scipy(cli, samples, tmp_path):
    x, rate = sf.read(samples / "speech.wav")
    sf.write(tmp_path / "stereo.wav", np.column_stack([x, x]), rate, subtype="PCM_16")
    out = tmp_path / "reverb.wav"
    result = cli(
        "conv1d", tmp_path / "stereo.wav", "-k", samples / "room-ir.wav", "-o", out, "--normalize"
    )
    assert result.exit_code == 0, result.output
    assert "resampled the kernel from 44100 Hz to 22050 Hz" in result.output
    y, rate = sf.read(out)
    assert rate == 22050 and y.shape[1] == 2 and sf.info(out).subtype == "PCM_16"
    assert abs(np.abs(y).max() - 1) < 1e-3
    x, _ = sf.read(samples / "speech.wav")
    ir, _ = sf.read(samples / "room-ir.wav")
    ir = ss.resample_poly(ir, 1, 2, axis=0) * 2
    expected = ss.convolve(x, ir[:, 0])
    expected /= np.abs(np.stack([expected, ss.convolve(x, ir[:, 1])])).max()
    np.testing.assert_allclose(y[:, 0], expected, atol=2 / 32768)


@pytest.mark.parametrize(
    "ext,subtype", [("flac", "PCM_24"), ("aiff", "PCM_16"), ("ogg", "VORBIS"), ("wav", "PCM_U8")]
)
def test_formats_keep_the_rate_and_take_subtype(cli, samples, tmp_path, ext, subtype):
    out = tmp_path / f"y.{ext}"
    result = cli("conv1d", samples / "melody.flac", "-k", "box:4", "-o", out, "--subtype", subtype)
    assert result.exit_code == 0, result.output
    info = sf.info(out)
    assert info.samplerate == 44100 and info.channels == 2 and info.subtype == subtype


def test_subtype_is_kept_by_default(cli, samples, tmp_path):
    cli("conv1d", samples / "melody.flac", "-k", "box:4", "-o", tmp_path / "y.wav")
    assert sf.info(tmp_path / "y.wav").subtype == "PCM_16"


def test_clipping_is_counted_and_normalize_avoids_it(cli, tmp_path):
    sf.write(tmp_path / "x.wav", np.full(100, 0.6), 8000, subtype="PCM_16")
    result = cli("conv1d", tmp_path / "x.wav", "-k", "1,1", "-o", tmp_path / "y.wav")
    assert "Warning: clipped 99 sample(s) beyond full scale" in result.output
    y, _ = sf.read(tmp_path / "y.wav")
    assert y.max() == pytest.approx(32767 / 32768)
    result = cli("conv1d", tmp_path / "x.wav", "-k", "1,1", "-o", tmp_path / "z.wav", "--normalize")
    assert "clipped" not in result.output


def test_fir_designs_take_the_files_rate(cli, samples, tmp_path):
    out = tmp_path / "low.wav"
    assert (
        cli(
            "conv1d",
            samples / "speech.wav",
            "-k",
            "lowpass:cutoff=500",
            "--mode",
            "same",
            "-o",
            out,
        ).exit_code
        == 0
    )
    y, rate = sf.read(out)
    x, _ = sf.read(samples / "speech.wav")
    spectrum = np.abs(np.fft.rfft(y)) / (np.abs(np.fft.rfft(x)) + 1e-9)
    freqs = np.fft.rfftfreq(len(y), 1 / rate)
    assert np.median(spectrum[freqs > 2000]) < 0.01 < np.median(spectrum[freqs < 300])


def test_echo_kernel_delays_by_seconds(cli, tmp_path):
    sf.write(tmp_path / "click.wav", np.r_[1.0, np.zeros(999)] * 0.5, 1000, subtype="FLOAT")
    cli(
        "conv1d",
        tmp_path / "click.wav",
        "-k",
        "echo:delay=0.25,decay=0.5",
        "-o",
        tmp_path / "e.wav",
    )
    y, _ = sf.read(tmp_path / "e.wav")
    assert np.flatnonzero(y).tolist() == [0, 250] and y[250] == 0.25


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--mode", "same"],
        ["--mode", "valid"],
        ["--pad", "3000,20", "--pad-mode", "reflect", "--stride", "3"],
        ["--stride", "4", "--dilation", "2"],
        ["--pad", "9", "--pad-mode", "circular"],
        ["--correlate", "--mode", "same", "--pad-mode", "replicate"],
        ["--normalize", "--subtype", "PCM_24"],
    ],
)
def test_streaming_gives_the_in_memory_result(cli, wavs, monkeypatch, args):
    path, x, ir = wavs
    monkeypatch.setattr(audiostream, "STREAM_MIN_FRAMES", 1 << 40)
    cli("conv1d", path / "x.wav", "-k", path / "ir.wav", "-o", path / "mem.wav", *args)
    streamed = []
    monkeypatch.setattr(audiostream, "STREAM_MIN_FRAMES", 1000)
    monkeypatch.setattr(audiostream, "BLOCK_FRAMES", 4096)
    original = audiostream._write_stream
    monkeypatch.setattr(audiostream, "_write_stream", lambda *a: streamed.append(1) or original(*a))
    cli("conv1d", path / "x.wav", "-k", path / "ir.wav", "-o", path / "str.wav", *args)
    assert streamed
    a, _ = sf.read(path / "mem.wav")
    b, _ = sf.read(path / "str.wav")
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_a_kernel_at_another_rate_is_resampled_with_a_notice(cli, tmp_path):
    sf.write(tmp_path / "x.wav", np.zeros(100), 8000)
    sf.write(tmp_path / "k.wav", np.r_[1.0, 0, 0, 0], 16000)
    result = cli("conv1d", tmp_path / "x.wav", "-k", tmp_path / "k.wav", "-o", tmp_path / "y.wav")
    assert result.exit_code == 0
    assert "Notice: resampled the kernel from 16000 Hz to 8000 Hz" in result.output


@pytest.mark.parametrize(
    "content,message",
    [
        (b"", "no such file"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", "corrupt or unreadable audio"),
        (b"fLaC" + bytes(100), "corrupt or unreadable audio"),
    ],
)
def test_broken_audio_is_one_clear_line(cli, tmp_path, content, message):
    path = tmp_path / "bad.wav"
    if content:
        path.write_bytes(content)
    result = cli("conv1d", path, "-k", "1", "-o", tmp_path / "y.wav")
    assert result.exit_code == 1 and message in result.output
    assert not (tmp_path / "y.wav").exists()


def test_zero_length_and_truncated_audio(cli, tmp_path):
    sf.write(tmp_path / "empty.wav", np.zeros((0, 1)), 8000)
    result = cli("conv1d", tmp_path / "empty.wav", "-k", "1", "-o", tmp_path / "y.wav")
    assert result.exit_code == 1 and "the audio has no samples" in result.output
    sf.write(tmp_path / "x.flac", np.random.default_rng(0).uniform(-1, 1, 40000), 8000)
    data = (tmp_path / "x.flac").read_bytes()
    (tmp_path / "cut.flac").write_bytes(data[: len(data) // 3])
    result = cli("conv1d", tmp_path / "cut.flac", "-k", "1", "-o", tmp_path / "y.wav")
    assert result.exit_code in (0, 1)  # libsndfile reads what is there, or says it is corrupt
    assert "Traceback" not in result.output


def test_channel_mismatch_is_an_error(cli, tmp_path):
    sf.write(tmp_path / "x.wav", np.zeros((100, 2)), 8000)
    sf.write(tmp_path / "k.wav", np.zeros((10, 3)), 8000)
    result = cli("conv1d", tmp_path / "x.wav", "-k", tmp_path / "k.wav", "-o", tmp_path / "y.wav")
    assert result.exit_code == 1
    assert "the kernel has 3 channels but the input has 2" in result.output


def test_binary_results_for_a_terminal_need_an_output(cli, samples, monkeypatch):
    from convcli.io import files

    monkeypatch.setattr(files, "_terminal", lambda: True)
    result = cli("conv1d", samples / "speech.wav", "-k", "1")
    assert result.exit_code == 2 and "write it with -o FILE.wav" in result.output


@pytest.mark.skipif(not shutil.which("sox"), reason="SoX is not installed")
def test_a_pipe_with_sox(samples, tmp_path):
    out = tmp_path / "y.wav"
    cmd = (
        f"sox {samples / 'speech.wav'} -t wav - | python -m convcli conv1d - -k box:8 -o - "
        f"| sox -t wav - {out}"
    )
    subprocess.run(cmd, shell=True, check=True)
    y, rate = sf.read(out)
    x, _ = sf.read(samples / "speech.wav")
    assert rate == 22050
    np.testing.assert_allclose(y, ss.convolve(x, np.full(8, 1 / 8)), atol=2 / 32768)


def test_a_failure_mid_stream_leaves_no_file(cli, wavs, monkeypatch):
    from convcli.engine import partitioned

    path, _, _ = wavs
    monkeypatch.setattr(audiostream, "STREAM_MIN_FRAMES", 1000)
    monkeypatch.setattr(audiostream, "BLOCK_FRAMES", 4096)
    calls = []
    original = partitioned.OverlapSave.push

    def failing(self, x):
        calls.append(1)
        if len(calls) > 2:
            raise MemoryError("simulated")
        return original(self, x)

    monkeypatch.setattr(partitioned.OverlapSave, "push", failing)
    (path / "keep.wav").write_bytes(b"old")
    result = cli("conv1d", path / "x.wav", "-k", path / "ir.wav", "-o", path / "keep.wav")
    assert result.exit_code == 1 and "not enough memory" in result.output
    assert (path / "keep.wav").read_bytes() == b"old"
    assert sorted(p.name for p in path.iterdir()) == ["ir.wav", "keep.wav", "x.wav"]


@pytest.mark.skipif(not shutil.which("ffmpeg"), reason="ffmpeg makes the MP3 and M4A files")
def test_mp3_reads_through_libsndfile_and_m4a_says_how_to_convert(cli, samples, tmp_path):
    for ext in ("mp3", "m4a"):
        subprocess.run(
            [
                "ffmpeg",
                "-loglevel",
                "error",
                "-y",
                "-i",
                str(samples / "speech.wav"),
                str(tmp_path / f"s.{ext}"),
            ],
            check=True,
        )
    result = cli("conv1d", tmp_path / "s.mp3", "-k", "box:3", "-o", tmp_path / "y.wav")
    assert result.exit_code == 0, result.output
    info = sf.info(tmp_path / "y.wav")
    assert (info.samplerate, info.subtype) == (22050, "PCM_16")
    result = cli("conv1d", tmp_path / "s.m4a", "-k", "box:3", "-o", tmp_path / "z.wav")
    assert result.exit_code == 1
    assert "s.m4a: M4A/AAC audio is not a format convcli reads" in result.output
    assert "ffmpeg -i" in result.output


def test_nan_in_a_float_wav_is_refused(cli, tmp_path):
    sf.write(tmp_path / "n.wav", np.array([0.1, np.nan, 0.2]), 8000, subtype="FLOAT")
    result = cli("conv1d", tmp_path / "n.wav", "-k", "1", "-o", tmp_path / "y.wav")
    assert result.exit_code == 1 and "NaN or infinite sample at frame 1" in result.output


def test_a_truncated_wav_warns_that_it_ends_early(cli, samples, tmp_path):
    data = (samples / "speech.wav").read_bytes()
    (tmp_path / "half.wav").write_bytes(data[: len(data) // 2])
    result = cli("conv1d", tmp_path / "half.wav", "-k", "1", "-o", tmp_path / "y.wav")
    assert result.exit_code == 0 and "Warning: " in result.output
    assert "the file ends early" in result.output


def _edge_samples():
    """Random samples plus ties, neighbours of full scale and values a hair off integers."""
    rng = np.random.default_rng(3)
    y = rng.uniform(-1, 1, size=(60_000, 2))
    y[:2000, 0] = (np.arange(-1000, 1000) + 0.5) / 32768
    y[:2000, 1] = np.nextafter(np.arange(-1000, 1000) / 32768, 1)
    y[2000:2010, 0] = [1, -1, 0, 1e-300, -1e-300, 0.99999, -0.99999, 0.99998, -1 + 2**-20, 0.5]
    y[2000:2010, 1] = np.nextafter([1, -1, 0.5, -0.5, 2**-15, -(2**-15), 2**-16, 0, 1, -1], 0)
    y[3000:5000, 0] = (np.arange(-1000, 1000) + 0.5) / 2**23
    y[3000:5000, 1] = (np.arange(-1000, 1000) + 0.5) / 2**31
    return y


@pytest.mark.parametrize("fmt", ["wav", "aiff"])
@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_24", "PCM_32"])
def test_integers_made_in_numpy_are_the_bytes_libsndfile_writes(tmp_path, fmt, subtype):
    from convcli.io.audio import SF_FORMATS, pcm

    y = _edge_samples()
    sf.write(tmp_path / f"a.{fmt}", y, 8000, subtype=subtype, format=SF_FORMATS[fmt])
    sf.write(tmp_path / f"b.{fmt}", pcm(y, subtype, fmt), 8000, subtype, format=SF_FORMATS[fmt])
    assert (tmp_path / f"a.{fmt}").read_bytes() == (tmp_path / f"b.{fmt}").read_bytes()


def test_formats_that_round_their_own_way_keep_libsndfile_s_conversion():
    from convcli.io.audio import pcm

    y = np.zeros((4, 1))
    assert pcm(y, "PCM_16", "flac") is None and pcm(y, "FLOAT", "wav") is None
    assert pcm(y, "PCM_U8", "wav") is None


def test_the_system_mp3_encoder_writes_the_bytes_soundfile_writes(tmp_path):
    from convcli.io import mp3
    from convcli.io.audio import audio_writer

    y = _edge_samples()[:30_000] * 0.5
    sf.write(tmp_path / "a.mp3", y, 44100, format="MP3")
    with audio_writer(str(tmp_path / "b.mp3"), "mp3", 44100, 2, "MPEG_LAYER_III") as write:
        write(y[:10_000])
        write(y[10_000:])
    if mp3.writer(str(tmp_path / "probe.mp3"), 44100, 2) is None:
        pytest.skip("no system libsndfile that writes MP3 (apt-get install libsndfile1)")
    assert (tmp_path / "a.mp3").read_bytes() == (tmp_path / "b.mp3").read_bytes()


def test_the_system_mp3_encoder_refuses_a_rate_mp3_cannot_hold(tmp_path):
    from convcli.errors import FileError
    from convcli.io import mp3

    if mp3.writer(str(tmp_path / "probe.mp3"), 44100, 2) is None:
        pytest.skip("no system libsndfile that writes MP3")
    with pytest.raises(FileError, match="cannot write mp3 audio"):
        mp3.writer(str(tmp_path / "odd.mp3"), 12345, 2)


def _long_wav(tmp_path, monkeypatch):
    monkeypatch.setattr(audiostream, "STREAM_MIN_FRAMES", 1000)
    monkeypatch.setattr(audiostream, "BLOCK_FRAMES", 4096)
    x = np.random.default_rng(4).uniform(-0.3, 0.3, size=(50_000, 2))
    sf.write(tmp_path / "x.wav", x, 8000, subtype="PCM_16")
    return tmp_path / "x.wav"


def test_a_long_job_on_a_terminal_shows_a_progress_bar(cli, tmp_path, monkeypatch):
    from convcli import messages

    monkeypatch.setattr(messages, "progress_wanted", lambda: messages.level() >= 1)
    path = _long_wav(tmp_path, monkeypatch)
    result = cli("conv1d", path, "-k", "hann:301", "-o", tmp_path / "y.wav")
    assert result.exit_code == 0, result.output
    assert "convolving [" in result.output and "100% 50300/50300" in result.output
    quiet = cli("-q", "conv1d", path, "-k", "hann:301", "-o", tmp_path / "z.wav")
    assert quiet.exit_code == 0 and quiet.output == ""


def test_no_progress_bar_when_stderr_is_not_a_terminal(cli, tmp_path, monkeypatch):
    path = _long_wav(tmp_path, monkeypatch)
    result = cli("conv1d", path, "-k", "hann:301", "-o", tmp_path / "y.wav")
    assert result.exit_code == 0 and "convolving [" not in result.output
