"""The shape of the navctl package: what importing it costs."""

import json
import subprocess
import sys


def test_importing_navctl_loads_no_api_types_nor_client():
    """--help and completion import every command module; none of navctl's modules may
    import apitypes, apiclient or aiohttp (about a second) until a command runs."""
    probe = """
import importlib, json, pkgutil, sys
import cli.navctl
names = [i.name for i in pkgutil.walk_packages(cli.navctl.__path__, "cli.navctl.")]
for name in names:
    if not name.endswith("__main__"):
        importlib.import_module(name)
heavy = {m.split(".")[0] for m in sys.modules} & {"apitypes", "apiclient", "aiohttp", "pydantic"}
print(json.dumps({"modules": names, "heavy": sorted(heavy)}))
"""
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    found = json.loads(result.stdout)
    assert {"cli.navctl.app", "cli.navctl.commands.get", "cli.navctl.describe.pages"} <= set(
        found["modules"]
    )
    assert found["heavy"] == []
