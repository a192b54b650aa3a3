"""The controller-manager: reconcile loops that turn declared state into pods."""
