"""Whole-file jobs: one plan per input, one table of routes.

An input becomes a :class:`~convcli.routes.plan.Plan` (source opened once, format,
kernel loaded once, settings, target). Each row of :data:`ROUTES` names a module
with ``accepts(plan)`` (why it takes the plan, or None) and ``run(plan, show_steps)``,
as Pillow's plugins say whether they accept a prefix; :func:`choose` asks them in
order and ``-v`` says which answered and why. The first rows stream (audio blocks,
image strips, chunks) in flat memory; the last, memory, takes everything. A new
route (a GPU, a store) is one module and one row. On a cluster, whole files are
tasks (:mod:`convcli.cluster`, from the batch) and a store's chunks are tasks of
the chunks route.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from .. import messages
from ..settings import ConvSettings
from .plan import Plan, make_plan
from .reshape import pad_file, pool_file


@dataclass(frozen=True)
class Route:
    name: str
    module: str  # in convcli.routes, imported when asked: start-up pays for none

    def accepts(self, plan: Plan) -> str | None:
        return self._module().accepts(plan)

    def run(self, plan: Plan, show_steps=None) -> None:
        self._module().run(plan, show_steps)

    def _module(self):
        return importlib.import_module(f"{__name__}.{self.module}")


ROUTES = (
    Route("pages of mixed sizes", "pages"),
    Route("audio blocks", "blocks"),
    Route("image strips, compiled", "rows"),
    Route("image strips", "strips"),
    Route("chunks", "chunks"),
    Route("memory", "memory"),
)


def choose(plan: Plan) -> Route:
    """The first route that accepts ``plan`` (memory accepts every plan)."""
    for route in ROUTES:
        why = route.accepts(plan)
        if why:
            messages.verbose(f"route: {route.name} ({why})")
            return route
    raise AssertionError("the memory route accepts every plan")


def convolve_file(path: str, out: str | None, settings: ConvSettings, show_steps=None) -> None:
    """Convolve one file (or ``-``) into ``out`` (a path, ``-`` or None for stdout).

    With ``settings.steps``, ``show_steps(text)`` receives the worked computation
    before the result is written.
    """
    plan = make_plan(path, out, settings)
    choose(plan).run(plan, show_steps)


__all__ = [
    "ROUTES",
    "Plan",
    "Route",
    "choose",
    "convolve_file",
    "make_plan",
    "pad_file",
    "pool_file",
]
