"""Batches (SPEC 2): outputs planned and refused before any work, failures per file."""

import os
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from convcli import messages
from convcli.cli import batch, batchopts
from convcli.errors import FileError


def files(folder, *names, text="1 2 3\n"):
    paths = []
    for name in names:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        paths.append(str(path))
    return paths


# --- output_paths, the plan ---------------------------------------------------------------


def test_a_missing_output_folder_is_created(tmp_path):
    a, b = files(tmp_path, "a.txt", "b.txt")
    pairs = batch.output_paths([a, b], f"{tmp_path}/new/deeper/", None)
    assert pairs == [(a, f"{tmp_path}/new/deeper/a.txt"), (b, f"{tmp_path}/new/deeper/b.txt")]
    assert (tmp_path / "new" / "deeper").is_dir()


def test_two_inputs_writing_one_output_are_refused_before_any_work(tmp_path):
    a, b = files(tmp_path, "a/x.txt", "b/x.txt")
    with pytest.raises(FileError, match="a/x.txt and .*b/x.txt would both write"):
        batch.output_paths([a, b], f"{tmp_path}/out/", None)
    assert not (tmp_path / "out").exists()
    with pytest.raises(FileError, match="would both write"):
        batch.output_paths([a, a.replace(".txt", ".json")], f"{tmp_path}/out/", "npy")


def test_a_batch_never_writes_onto_its_own_inputs_unless_in_place(tmp_path):
    a, b = files(tmp_path, "a.txt", "b.txt")
    with pytest.raises(FileError, match="one of the inputs.*--in-place"):
        batch.output_paths([a, b], f"{tmp_path}/", None)
    assert batch.output_paths([a, b], f"{tmp_path}/", None, in_place=True) == [(a, a), (b, b)]
    assert batch.output_paths([a, b], None, None, in_place=True) == [(a, a), (b, b)]


def test_no_clobber_drops_outputs_that_exist(tmp_path):
    a, b = files(tmp_path, "a.txt", "b.txt")
    files(tmp_path, "out/a.txt")
    pairs = batch.output_paths([a, b], f"{tmp_path}/out/", None, no_clobber=True)
    assert pairs == [(b, f"{tmp_path}/out/b.txt")]


def test_recursive_walks_readable_files_and_mirrors_subfolders(tmp_path):
    files(
        tmp_path,
        "in/a.txt",
        "in/sub/b.npy",
        "in/sub/deep/c.png",
        "in/notes.md",
        "in/.hidden.txt",
        "in/.git/d.txt",
    )
    pairs = batch.output_paths([f"{tmp_path}/in"], f"{tmp_path}/out/", "json", recursive=True)
    assert [os.path.relpath(o, tmp_path) for _, o in pairs] == [
        "out/a.json",
        "out/sub/b.json",
        "out/sub/deep/c.json",
    ]
    assert (tmp_path / "out" / "sub" / "deep").is_dir()


def test_a_folder_without_recursive_is_an_error(tmp_path):
    files(tmp_path, "in/a.txt")
    with pytest.raises(FileError, match="is a folder: give -r"):
        batch.output_paths([f"{tmp_path}/in"], f"{tmp_path}/out/", None)


def test_recursive_skips_its_own_output_folder_inside_the_input(tmp_path):
    files(tmp_path, "in/a.txt", "in/out/old.txt")
    pairs = batch.output_paths([f"{tmp_path}/in"], f"{tmp_path}/in/out/", None, recursive=True)
    assert [os.path.basename(o) for _, o in pairs] == ["a.txt"]


# --- a throwaway command built from the options, as the lead will wire them ---------------


@click.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("-o", "--output")
@batchopts.recursive
@batchopts.no_clobber
@batchopts.in_place
@batchopts.quiet
@batchopts.verbose
def harness(inputs, output, recursive, no_clobber, in_place):
    def job(path, out):
        text = Path(path).read_text()
        if "bad" in text:
            raise FileError(f"{path}: bad data")
        with open(out, "w") as f:
            f.write(text.upper())

    pairs = batch.output_paths(
        inputs, output, None, recursive=recursive, in_place=in_place, no_clobber=no_clobber
    )
    batch.run_all(job, pairs, 2)


def run_harness(*args):
    messages.set_level(messages.NORMAL)
    return CliRunner().invoke(harness, [str(a) for a in args])


def test_the_options_reach_the_plan_and_quiet_silences_notices(tmp_path):
    a, b = files(tmp_path, "a.txt", "b.txt", text="x")
    files(tmp_path, "out/a.txt", text="old")
    result = run_harness(a, b, "-o", f"{tmp_path}/out/", "--no-clobber")
    assert result.exit_code == 0 and "a.txt exists; skipped (--no-clobber)" in result.output
    assert (tmp_path / "out" / "a.txt").read_text() == "old"
    assert (tmp_path / "out" / "b.txt").read_text() == "X"
    assert run_harness(a, b, "-o", f"{tmp_path}/out/", "--no-clobber", "-q").output == ""
    assert run_harness(a, "-q", "-v").exit_code == 2


def test_a_failing_file_is_reported_once_and_the_rest_go_on(tmp_path):
    paths = files(tmp_path, "a.txt", "b.txt", "c.txt", text="x")
    (tmp_path / "b.txt").write_text("bad")
    result = run_harness(*paths, "-o", f"{tmp_path}/out/")
    assert result.exit_code == 1
    assert result.output.count(paths[1]) == 1 and result.output.count("Error:") == 2
    assert sorted(os.listdir(tmp_path / "out")) == ["a.txt", "c.txt"]


def test_in_place_rewrites_each_input(tmp_path):
    paths = files(tmp_path, "a.txt", "b.txt", text="x")
    assert run_harness(*paths, "--in-place").exit_code == 0
    assert (tmp_path / "a.txt").read_text() == "X"


# --- the real commands --------------------------------------------------------------------


def test_conv_batch_creates_the_output_folder(cli, tmp_path):
    a, b = files(tmp_path, "a.txt", "b.txt")
    result = cli("conv1d", a, b, "-k", "1,1", "-o", f"{tmp_path}/made/")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "made" / "b.txt").read_text() == "1 3 5 3\n"


def test_conv_batch_refuses_clashes_and_its_own_inputs_before_any_work(cli, tmp_path):
    a, b = files(tmp_path, "a/x.txt", "b/x.txt")
    result = cli("conv1d", a, b, "-k", "1,1", "-o", f"{tmp_path}/out/")
    assert result.exit_code == 1 and result.output.count("Error:") == 1
    assert "would both write" in result.output and not (tmp_path / "out").exists()
    result = cli("conv1d", a, f"{tmp_path}/b/../a/x.txt", "-k", "1", "-o", f"{tmp_path}/a/")
    assert result.exit_code == 1
    result = cli("conv1d", a, "-k", "1,1", "-o", f"{tmp_path}/a/")
    assert result.exit_code == 1 and "one of the inputs" in result.output
    assert Path(a).read_text() == "1 2 3\n"


def test_conv_batch_reports_a_failing_file_once_and_exits_1(cli, tmp_path):
    a, b, c = files(tmp_path, "a.txt", "b.txt", "c.txt")
    (tmp_path / "b.txt").write_text("1 x\n")
    result = cli("conv2d", a, b, c, "-k", "1", "-o", f"{tmp_path}/out/", "-j", "2")
    assert result.exit_code == 1
    assert result.output.count(b) == 1
    assert sorted(os.listdir(tmp_path / "out")) == ["a.txt", "c.txt"]


def test_conv_no_clobber_skips_outputs_that_exist(cli, tmp_path):
    a, b = files(tmp_path, "a.txt", "b.txt")
    files(tmp_path, "out/a.txt", text="old\n")
    result = cli("conv2d", a, b, "-k", "1", "-o", f"{tmp_path}/out/", "--no-clobber")
    assert result.exit_code == 0
    assert (tmp_path / "out" / "a.txt").read_text() == "old\n"
    assert (tmp_path / "out" / "b.txt").exists()


def test_conv_recursive_mirrors_subfolders(cli, tmp_path):
    files(tmp_path, "in/a.txt", "in/sub/b.txt", "in/README.md")
    result = cli("conv1d", "-r", f"{tmp_path}/in", "-k", "1", "-o", f"{tmp_path}/out/")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "sub" / "b.txt").read_text() == "1 2 3\n"
    assert not (tmp_path / "out" / "README.md").exists()


def test_conv_in_place_replaces_the_inputs(cli, tmp_path):
    a, b = files(tmp_path, "a.txt", "b.txt")
    result = cli("conv1d", a, b, "-k", "1,1", "--in-place")
    assert result.exit_code == 0, result.output
    assert Path(a).read_text() == "1 3 5 3\n"


def test_conv_quiet_silences_notices(cli, tmp_path):
    a, b = files(tmp_path, "a.txt", "b.txt")
    files(tmp_path, "out/a.txt")
    result = cli("conv1d", a, b, "-k", "1", "-o", f"{tmp_path}/out/", "--no-clobber", "-q")
    assert result.exit_code == 0 and result.output == ""
