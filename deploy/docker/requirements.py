"""Print the image's pip requirements, read from ``pyproject.toml`` (stdlib only).

The Dockerfile installs these in a layer of its own, before the code is copied, so a code
change rebuilds in seconds while the dependency layer stays cached. Usage::

    python deploy/docker/requirements.py pyproject.toml --extra postgres --ray-extra default

``--extra NAME`` adds the optional dependency group NAME (repeatable). ``--ray-extra NAME``
adds an extra to the ``ray[...]`` requirement (the image wants ``ray[default]`` for the
dashboard next to the project's ``ray[tune]``), keeping the project's version pin.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[([^\]]*)\])?\s*(.*)$")


def add_extras(requirement: str, package: str, extras: list[str]) -> str:
    """``requirement`` with ``extras`` merged into its ``[...]`` if it names ``package``."""
    match = _NAME.match(requirement)
    if match is None:
        raise ValueError(f"not a requirement: {requirement!r}")
    name, _, current, rest = match.groups()
    if name.lower().replace("_", "-") != package.lower().replace("_", "-"):
        return requirement
    merged = sorted({e.strip() for e in (current or "").split(",") if e.strip()} | set(extras))
    return f"{name}[{','.join(merged)}]{rest}"


def requirements(pyproject: Path, extras: list[str], ray_extras: list[str]) -> list[str]:
    """The project's dependencies plus the named optional groups, one requirement each.

    Raises ValueError naming an optional group that ``pyproject`` does not define.
    """
    project = tomllib.loads(pyproject.read_text())["project"]
    optional = project.get("optional-dependencies", {})
    unknown = [name for name in extras if name not in optional]
    if unknown:
        raise ValueError(f"unknown extras {unknown}; pyproject defines {sorted(optional)}")
    lines = list(project.get("dependencies", []))
    for name in extras:
        lines.extend(optional[name])
    if ray_extras:
        lines = [add_extras(line, "ray", ray_extras) for line in lines]
    return lines


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: print one requirement per line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pyproject", type=Path)
    parser.add_argument("--extra", action="append", default=[])
    parser.add_argument("--ray-extra", action="append", default=[])
    args = parser.parse_args(argv)
    try:
        lines = requirements(args.pyproject, args.extra, args.ray_extra)
    except (ValueError, KeyError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
