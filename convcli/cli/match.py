"""``convcli match``: where a template occurs in signals, audio and images, and how alike."""

from __future__ import annotations

import click

from ..engine.match import SCORES
from . import main, options


@main.command("match")
@click.argument("template", metavar="TEMPLATE", type=click.Path(allow_dash=True))
@options.inputs
@click.option(
    "--score",
    type=click.Choice(SCORES),
    default="ccoeff-normed",
    show_default=True,
    help="ccoeff-normed: Pearson's r of template and window, in [-1, 1] (OpenCV's "
    "TM_CCOEFF_NORMED); the others are OpenCV's definitions (sqdiff*: lower is "
    "better). A window (or template) with no variance scores 0, never NaN "
    "(sqdiff-normed: 1).",
)
@click.option(
    "--top",
    type=click.IntRange(min=1),
    metavar="N",
    help="The N best matches.  [default: 1, or all past --threshold]",
)
@click.option(
    "--min-distance",
    type=click.IntRange(min=1),
    metavar="D",
    help="Matches closer than D samples (pixels) are one.  [default: half the template]",
)
@click.option(
    "--threshold",
    type=options.FINITE,
    metavar="T",
    help="Every match scoring at least T (at most T for sqdiff scores).",
)
@click.option("--subsample", is_flag=True, help="Sub-sample positions (parabola through the peak).")
@click.option("--gray", is_flag=True, help="Convert colour images (template and input) to grey.")
@click.option(
    "--map",
    "map_path",
    metavar="FILE",
    type=click.Path(allow_dash=False),
    help="Write the score map: float in .npy/.tiff, a picture in .png.",
)
@click.option(
    "--mark",
    "mark_path",
    metavar="FILE.png",
    type=click.Path(),
    help="Draw the matches: the image boxed and scored; a signal's score against time.",
)
@click.option(
    "--lags",
    is_flag=True,
    help="Print the normalised cross-correlation of INPUT and TEMPLATE against lag "
    "(MATLAB xcorr 'normalized'; SciPy correlate + correlation_lags).",
)
@click.option(
    "--delay",
    is_flag=True,
    help="Print how far INPUT lags TEMPLATE, in samples and seconds (finddelay).",
)
@click.option(
    "--align",
    "align_path",
    metavar="OUT",
    type=click.Path(allow_dash=True),
    help="Write INPUT moved to line up with TEMPLATE (alignsignals); implies --delay.",
)
@click.option(
    "--steps",
    is_flag=True,
    help="Show each window's mean, norm, products and r first (1-D, at most 64).",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help='Print a list of {"path", "position", "time"?, "box"?, "score"}.',
)
@options.from_
@options.precision
@options.jobs
@options.scheduler
def match(template, inputs, **s):
    """Find TEMPLATE in each INPUT: 1-D signals and audio, 2-D matrices and images.

    One line per match, best first: "INPUT: sample 540 (12.254 s), r=0.973" for audio
    (the window's first sample), "INPUT: x=120 y=48 (64x64), r=0.991" for images (its
    top-left corner and the template's size); other scores print their name for r.
    Colour and multichannel scores sum over the channels as OpenCV's do; a one-channel
    template is matched in every channel; a template's alpha channel is a mask.

    \b
    Examples:
      echo 1 2 3 | convcli match - signal.txt --steps
      echo 4 9 5 | convcli match - data.txt --score sqdiff --top 2
      convcli match speech.wav speech.wav --delay     # in step, xcorr=1.000
      convcli match photo.png photo.png --json        # the whole photo at 0,0
      convcli match photo.png photos/p0.png photos/p1.png --gray -j 2
      convcli match speech.wav speech.wav --lags | head -3
    """
    from ..job.match import MatchSettings, read_template

    if s["align_path"]:
        s["delay"] = True
    if sum(bool(s[k]) for k in ("lags", "delay", "steps")) > 1:
        raise click.UsageError("give one of --lags, --delay/--align and --steps")
    if len(inputs) > 1 and any(s[k] for k in ("map_path", "mark_path", "align_path")):
        raise click.UsageError("--map, --mark and --align write one file: give one INPUT")
    if template == "-" and "-" in inputs:
        raise click.UsageError("standard input (-) can be the template or an input, not both")
    settings = MatchSettings(
        score=s["score"],
        top=s["top"] if s["top"] or s["threshold"] is None else None,
        min_distance=s["min_distance"],
        threshold=s["threshold"],
        subsample=s["subsample"],
        gray=s["gray"],
        from_format=s["from_format"],
        map_path=s["map_path"],
        mark_path=s["mark_path"],
        lags=s["lags"],
        delay=s["delay"],
        align_path=s["align_path"],
        steps=s["steps"],
        precision=s["precision"],
    )
    if settings.top is None and settings.threshold is None:
        settings = MatchSettings(**{**settings.__dict__, "top": 1})
    data = read_template(template, settings)
    from .matchbatch import run

    run(
        template,
        data,
        list(inputs),
        settings,
        jobs=s["jobs"],
        scheduler=s["scheduler"],
        as_json=s["as_json"],
    )
