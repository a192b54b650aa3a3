"""``python -m cli.navctl``: the same as the ``navctl`` console script."""

from cli.navctl.app import main

main()
