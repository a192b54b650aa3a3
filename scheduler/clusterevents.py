"""Cluster events: the changes that may make a pod the scheduler rejected schedulable.

Plugins name the events that could change their verdict (``Plugin.events``); the cache
reports what changed, and the queue moves back to the active queue only the pods whose
rejecting plugins care about it.
"""

from __future__ import annotations

from enum import IntFlag


class ClusterEvent(IntFlag):
    """Changes that may make an unschedulable pod schedulable."""

    NODE_ADD = 1
    NODE_DELETE = 2
    NODE_LABEL = 4
    NODE_TAINT = 8
    NODE_ALLOCATABLE = 16
    NODE_UNSCHEDULABLE = 32
    POD_ADD = 64  # a pod assigned to a node appeared (or was assumed)
    POD_UPDATE = 128  # an assigned pod's labels or requests changed
    POD_DELETE = 256  # an assigned pod went away (or a bind was forgotten)
    NAMESPACE = 512
    NODE_ANY = 63
    POD_ANY = 448
