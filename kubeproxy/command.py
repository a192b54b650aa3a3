"""Running the kernel tools (``iptables-restore``, ``nft``, ``ip``) from the event loop."""

from __future__ import annotations

import asyncio


class CommandError(RuntimeError):
    """A tool exited with a non-zero status; the message carries its stderr."""


async def run(argv: list[str], stdin: str | None = None) -> str:
    """Run ``argv`` (feeding ``stdin``); its stdout, or ``CommandError``."""
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate(stdin.encode() if stdin is not None else None)
    if proc.returncode != 0:
        detail = err.decode(errors="replace").strip()[:2000]
        raise CommandError(f"{' '.join(argv[:3])} failed ({proc.returncode}): {detail}")
    return out.decode()
