"""Storage behind one interface; only this package knows etcd."""
