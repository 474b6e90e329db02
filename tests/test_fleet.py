"""Fleet utilisation: pooled (any chip runs any model) versus dedicated (one fleet per model)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inference_wars import fleet


def test_hand_computed_two_models():
    # model A busy 3 chips then 1, model B the reverse: total is 4 every period
    d = np.array([[3.0, 1.0], [1.0, 3.0]])
    r = fleet.fleet_capacity(d)
    assert r["pooled_chips"] == pytest.approx(4.0)
    assert r["dedicated_chips"] == pytest.approx(6.0)  # 3 + 3
    assert r["pooled_utilisation"] == pytest.approx(1.0)
    assert r["dedicated_utilisation"] == pytest.approx(4 / 6)
    assert r["breakeven_advantage"] == pytest.approx(1.5)


def test_swap_overhead_inflates_the_pooled_fleet():
    d = np.array([[3.0, 1.0], [1.0, 3.0]])
    assert fleet.fleet_capacity(d, swap_overhead=0.2)["pooled_chips"] == pytest.approx(5.0)


def test_equal_constant_shares_make_both_fleets_the_same():
    d = fleet.shifting_demand(4, 12, concentration=0.0, total=8.0)
    assert np.allclose(d, 2.0)
    r = fleet.fleet_capacity(d)
    assert r["pooled_chips"] == pytest.approx(r["dedicated_chips"])


def test_demand_sums_to_total_and_diurnal_swing():
    d = fleet.shifting_demand(5, 24, concentration=2.0, total=10.0)
    assert d.shape == (24, 5) and np.allclose(d.sum(axis=1), 10.0)
    dd = fleet.shifting_demand(5, 24, concentration=2.0, total=10.0, diurnal_amplitude=0.5)
    assert dd.sum(axis=1).max() == pytest.approx(15.0, rel=1e-3)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 12), k=st.floats(0, 6), s=st.floats(0, 0.5))
def test_pooled_never_needs_more_chips_than_dedicated_without_overhead(n, k, s):
    r = fleet.fleet_capacity(fleet.shifting_demand(n, 24, k))
    assert r["pooled_chips"] <= r["dedicated_chips"] + 1e-9
    assert 0 < r["dedicated_utilisation"] <= r["pooled_utilisation"] <= 1 + 1e-9
    assert r["breakeven_advantage"] <= n + 1e-9  # at worst each model peaks at the whole demand
    r2 = fleet.fleet_capacity(fleet.shifting_demand(n, 24, k), swap_overhead=s)
    assert r2["pooled_chips"] >= r["pooled_chips"] - 1e-12


def test_more_concentrated_traffic_hurts_the_dedicated_fleet():
    u = fleet.utilisation_curve([6], [0.0, 1.0, 3.0, 8.0])["dedicated_utilisation"]
    assert np.all(np.diff(u) < 0)


def test_demand_in_chips_and_errors():
    assert np.allclose(fleet.demand_in_chips([[100.0, 50.0]], [50.0, 25.0]), [[2.0, 2.0]])
    with pytest.raises(ValueError, match="positive"):
        fleet.demand_in_chips([1.0], [0.0])
    with pytest.raises(ValueError, match="2-D"):
        fleet.fleet_capacity([1.0, 2.0])
    with pytest.raises(ValueError, match="non-negative"):
        fleet.fleet_capacity([[1.0, -1.0]])
    with pytest.raises(ValueError, match="below 1"):
        fleet.fleet_capacity([[1.0]], swap_overhead=1.0)
    with pytest.raises(ValueError, match="n_models"):
        fleet.shifting_demand(0)
    with pytest.raises(ValueError, match="concentration"):
        fleet.shifting_demand(3, concentration=-1)
