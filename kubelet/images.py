"""Images: present, pulled or refused as a container's ``imagePullPolicy`` says.

``Never`` uses only what is there (``ErrImageNeverPull``); ``IfNotPresent`` pulls what
is missing; ``Always`` pulls every time. A failed pull is ``ErrImagePull``, then
``ImagePullBackOff`` until the image's back-off (``--image-pull-backoff-base``,
doubling) runs out, as Kubernetes' image manager does.
"""

from __future__ import annotations

from collections.abc import Callable

from apiclient import NORMAL, WARNING
from apitypes.core import Container, Pod
from kubelet.backoff import Backoff
from kubelet.runtime import ImagePullError, Runtime
from kubelet.static import default_pull_policy
from kubelet.sync import PodActions


class ImagePuller:
    def __init__(
        self,
        runtime: Runtime,
        backoff: Backoff,
        event: Callable[[Pod, str, str, str], None],
        clock: Callable[[], float],
    ) -> None:
        self.runtime = runtime
        self.pull_backoff = backoff
        self.event = event
        self.clock = clock
        self._pull_failed_at: dict[str, float] = {}

    async def ensure(
        self,
        target: Pod,
        container: Container,
        waiting: dict[str, tuple[str, str]],
        actions: PodActions,
    ) -> bool:
        """Whether ``container``'s image is there to start from, pulling it as its pull
        policy says; if not, why it waits (in ``waiting``) and when to retry (``actions``).
        Events go to ``target`` (the pod, or a static pod's mirror)."""
        image = container.image or ""
        policy = container.image_pull_policy or default_pull_policy(image)
        present = await self.runtime.image_id(image)
        if policy == "Never":
            if present:
                return True
            message = f'Container image "{image}" is not present with pull policy of Never'
            waiting[container.name] = ("ErrImageNeverPull", message)
            self.event(target, WARNING, "ErrImageNeverPull", message)
            actions.retry(10.0)
            return False
        if policy == "IfNotPresent" and present:
            return True
        failed_at = self._pull_failed_at.get(image)
        if failed_at is not None:
            remaining = self.pull_backoff.remaining(image, failed_at)
            if remaining > 0:
                waiting[container.name] = ("ImagePullBackOff", f'Back-off pulling image "{image}"')
                actions.retry(remaining)
                return False
        self.event(target, NORMAL, "Pulling", f'Pulling image "{image}"')
        try:
            await self.runtime.pull_image(image)
        except ImagePullError as err:
            stamp = self.clock()
            self.pull_backoff.next(image, stamp)
            self._pull_failed_at[image] = stamp
            message = f'Failed to pull image "{image}": {err}'
            waiting[container.name] = ("ErrImagePull", message)
            self.event(target, WARNING, "Failed", message)
            actions.retry(self.pull_backoff.delay(image))
            return False
        self._pull_failed_at.pop(image, None)
        self.pull_backoff.reset(image)
        self.event(target, NORMAL, "Pulled", f'Successfully pulled image "{image}"')
        return True
