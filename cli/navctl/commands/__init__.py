"""One module per navctl verb (or tight verb family): its flags, its help, and what it does.

``cli.navctl.app`` adds each module's ``app`` to the root command; see ``cli/README.md``
for how to add one.
"""
