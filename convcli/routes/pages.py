"""Multi-page TIFFs whose pages differ in size: each page filtered at its own size."""

from __future__ import annotations

from ..errors import FormatError
from ..io import imagepages as image
from ..job import convolve_data
from .plan import Plan, stage


def accepts(plan: Plan) -> str | None:
    if plan.kind != "image" or plan.fmt != "tiff" or plan.settings.steps:
        return None
    sizes = image.page_sizes(plan.source, plan.name, plan.fmt)
    if sizes is None:
        return None
    return f"{len(sizes)} pages of {len(set(sizes))} sizes: each at its own size"


def run(plan: Plan, show_steps=None) -> None:
    if plan.out_fmt != "tiff" or not plan.to_file:
        raise FormatError(
            f"{plan.name} has pages of different sizes, which only a .tiff "
            "file holds: write -o OUT.tiff"
        )
    count = len(image.page_sizes(plan.source, plan.name, plan.fmt))
    results = []
    with stage(f"{plan.name}: {count} pages, each at its own size"):
        for page in range(count):
            data = image.read_page(plan.source, plan.name, page, plan.settings.gray)
            results.append(convolve_data(data, plan.kernel, plan.settings))
        image.write_pages(results, plan.out)
