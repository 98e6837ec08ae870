"""The portal's pages: Jinja2 templates (templates/*.html, Vietnamese, autoescaped) and the one
stylesheet. No static directory is served: the stylesheet is one route."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from lensan.portal.queries import as_local

TEMPLATES = Path(__file__).resolve().parent / "templates"


@lru_cache
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["local"] = as_local
    env.filters["number"] = _number
    return env


def render(name: str, **context) -> str:
    return environment().get_template(name).render(**context)


@lru_cache
def stylesheet() -> str:
    return (TEMPLATES / "portal.css").read_text(encoding="utf-8")


def _number(value) -> str:
    """A value as Vietnamese readers write it: 1.234,5."""
    if value is None:
        return "—"
    text = f"{float(value):,.3f}".rstrip("0").rstrip(".")
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")
