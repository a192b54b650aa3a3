"""Cluster DNS: the Kubernetes DNS specification answered from informer caches."""
