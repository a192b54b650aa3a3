"""What the tests and the benchmarks share: real navarch processes, local images, fake
nodes and a raw watch client.

This is not part of any daemon: only ``tests/`` and ``bench/`` import it (import-linter
keeps the daemons and the command line from doing so). It may import the daemons'
public pieces, as the tests do.
"""
