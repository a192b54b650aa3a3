"""kubeproxy."""
