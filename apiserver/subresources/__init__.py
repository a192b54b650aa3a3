"""The subresources the kinds declare (see ``apiserver.registry.subresource``).

- ``object``: ``ObjectSubresource``, the base of those that are a view of the object;
- ``status``: ``Status``, the object's status (every kind with one);
- ``finalize``: ``Finalize``, a namespace's ``spec.finalizers``;
- ``scale``: ``Scale``, ``spec.replicas`` as an ``autoscaling/v1`` Scale;
- ``binding``: ``Binding``, a pod assigned to a node;
- ``eviction``: ``Eviction``, a pod deleted within its disruption budgets;
- ``podproxy``: ``Log``, ``Exec``, ``PortForward``, proxied to the pod's kubelet.
"""
