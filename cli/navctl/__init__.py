"""``navctl``: kubectl-style commands for people (see ``cli/README.md``).

``app`` declares the root command and its global flags and adds one module of
``commands`` per verb; the other modules are what the verbs share. ``main`` is the
console entry point (``navctl = "cli.navctl:main"``); it imports the app when called,
so that importing a shared module (in tests, say) does not build every command.
"""

from __future__ import annotations


def main() -> None:
    """Run ``navctl`` with ``sys.argv``."""
    from cli.navctl.app import main as run_app

    run_app()
