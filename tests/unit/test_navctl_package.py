"""The shape of the navctl package: start-up cost and imports."""

import subprocess
import sys


def test_help_and_completion_load_no_api_types_nor_client():
    """Building every command (what --help and completion do) imports no apitypes,
    apiclient or aiohttp: those cost about a second and only running a command needs them."""
    probe = (
        "import sys, cli.navctl.app; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'apitypes', 'apiclient', 'aiohttp', 'pydantic'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
