"""The route that takes every plan: the whole input in memory through the engine."""

from __future__ import annotations

from .. import messages
from ..io import files, registry
from ..job import convolve_data
from ..job.convolve import check_complex, steps_text
from .plan import Plan, stage


def accepts(plan: Plan) -> str:
    if plan.settings.steps:
        return "--steps shows every sample"
    return (
        "the whole input fits in memory"
        if not plan.to_file
        else "no streaming route takes this input, kernel and output"
    )


def run(plan: Plan, show_steps=None) -> None:
    """Read, convolve and write ``plan``'s input whole."""
    settings = plan.settings
    with stage(f"read {plan.name} ({plan.fmt})"):
        data = registry.reader(plan.fmt)(plan.source, plan.name, fmt=plan.fmt, gray=settings.gray)
    kernel = plan.kernel
    check_complex(plan.name, plan.out_fmt, settings, data.array, kernel)
    if settings.steps and show_steps is not None:
        show_steps(steps_text(data, kernel, settings))
    with stage(
        f"convolved {data.array.shape} with {kernel.shape} in memory "
        f"(method {settings.method}, {_method(data.array.shape, kernel, settings)})"
    ):
        result = convolve_data(data, kernel, settings, plan.out_fmt)
    with stage(f"wrote {plan.out or 'standard output'} ({plan.out_fmt})"):
        files.write(
            result,
            plan.out,
            plan.out_fmt,
            precision=settings.precision,
            subtype=settings.subtype,
            quality=settings.quality,
        )


def _method(shape, kernel, settings) -> str:
    """The method the engine's cost model picks for this job, for -v."""
    if messages.level() < messages.VERBOSE or kernel.ndim == 4:
        return "filter bank" if kernel.ndim == 4 else "auto"
    from ..engine.costs import choose_method
    from ..geometry import axes

    try:
        geometry = axes(
            shape[: settings.ndim],
            kernel.shape[: settings.ndim],
            settings.mode,
            pad=settings.pad,
            stride=settings.stride,
            dilation=settings.dilation,
        )
        return {"oa": "overlap-add"}.get(m := choose_method(geometry), m) + " by the cost model"
    except (ValueError, ArithmeticError):
        return "auto"
