"""How a daemon runs its asyncio main function."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, TypeVar

import uvloop

T = TypeVar("T")


def run_main(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` to completion on a new uvloop event loop (as ``asyncio.run`` does).

    The daemons spend much of their time reading watch streams and sending small
    requests; uvloop does that socket work and the loop's scheduling in C. Every
    daemon starts its loop here (the apiserver through uvicorn's ``loop="uvloop"``).
    """
    return uvloop.run(main)
