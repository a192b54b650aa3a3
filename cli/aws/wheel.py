"""The wheel ``navarch aws up`` uploads: built from the checkout this navarch runs from.

The build runs on a copy of the packages (so the checkout gets no ``build/`` directory)
with the environment's own setuptools (``--no-build-isolation``: the ``aws`` extra
installs it) and no package index, so nothing is downloaded to build it.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from cli.aws.session import AwsError


def source_root() -> Path | None:
    """The checkout this code runs from (an editable install), or None for an
    installed wheel."""
    root = Path(__file__).resolve().parents[2]
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return None
    try:
        name = tomllib.loads(pyproject.read_text()).get("project", {}).get("name")
    except tomllib.TOMLDecodeError:
        return None
    return root if name == "navarch" else None


def build_wheel(out_dir: Path, root: Path | None = None) -> Path:
    """Build navarch's wheel from ``root`` (default: this checkout) into ``out_dir``."""
    root = root or source_root()
    if root is None:
        raise AwsError(
            "this navarch is not a source checkout: pass --wheel FILE or --package-url URL"
        )
    config = tomllib.loads((root / "pyproject.toml").read_text())
    includes = config["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = sorted({pattern.rstrip("*").rstrip(".") for pattern in includes})
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")
    with tempfile.TemporaryDirectory(prefix="navarch-wheel-") as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        for name in ("pyproject.toml", "README.md"):
            shutil.copy2(root / name, src / name)
        for package in packages:
            if (root / package).is_dir():
                shutil.copytree(root / package, src / package, ignore=ignore)
        out_dir.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [
                sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                "--disable-pip-version-check", "--no-index",
                "--quiet", "--wheel-dir", str(out_dir), str(src),
            ],
            capture_output=True,
            text=True,
            check=False,
        )  # fmt: skip
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise AwsError("building the wheel failed: " + " | ".join(tail))
    wheels = sorted(out_dir.glob("navarch-*.whl"))
    if not wheels:
        raise AwsError(f"building the wheel left no navarch-*.whl in {out_dir}")
    return wheels[-1]


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
