"""``navarch network-agent``: run the agent in the foreground until SIGTERM/SIGINT, or
remove what it set up (``--cleanup``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from apiclient import Client, ClientConfig
from apiclient.loop import run_main
from netagent.agent import AgentConfig, NetworkAgent
from netagent.agent import cleanup as remove_all
from netagent.kernel import HostKernel

log = logging.getLogger(__name__)


async def run_agent(config: AgentConfig, client_config: ClientConfig) -> None:
    client = Client(client_config, user_agent="navarch-network-agent")
    agent = NetworkAgent(client, config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    runner = asyncio.create_task(agent.run(), name="network-agent")
    stopper = asyncio.create_task(stop.wait(), name="stop")
    try:
        done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if runner in done:
            runner.result()
    finally:
        for task in (runner, stopper):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await client.close()
        log.info("network agent stopped (routes and rules stay; --cleanup removes them)")


def serve(config: AgentConfig, client_config: ClientConfig) -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    run_main(run_agent(config, client_config))


def cleanup(config: AgentConfig) -> list[str]:
    """Remove the agent's routes and rules (no apiserver needed); what was removed."""
    return remove_all(HostKernel(), config.cluster_cidrs).removed
