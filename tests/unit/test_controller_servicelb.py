"""The service load-balancer controller's address pool."""

from __future__ import annotations

import pytest

from controllers.servicelb import Pool


def test_pool_hands_out_host_addresses_of_every_network_in_order() -> None:
    pool = Pool("10.122.0.0/29, 10.123.0.4/31")
    assert list(pool.addresses()) == [
        *(f"10.122.0.{n}" for n in range(1, 7)),
        "10.123.0.4",
        "10.123.0.5",
    ]
    assert "10.122.0.1" in pool and "10.123.0.5" in pool
    assert "10.122.0.0" not in pool and "10.122.0.7" not in pool
    assert "10.122.1.1" not in pool and "nonsense" not in pool


def test_pool_default_is_a_slash_24_and_bad_specs_are_refused() -> None:
    assert len(list(Pool("10.122.0.0/24").addresses())) == 254
    with pytest.raises(ValueError):
        Pool(" , ")
    with pytest.raises(ValueError):
        Pool("10.122.0.0/33")
