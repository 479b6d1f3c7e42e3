import jax.numpy as jnp
from hypothesis import given, settings
from hypothesis import strategies as st

from tasks.shaping import tolerance

finite = st.floats(-50.0, 50.0, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(
    x=finite,
    lower=finite,
    width=st.floats(0.0, 5.0),
    margin=st.floats(0.01, 10.0),
    sigmoid=st.sampled_from(["gaussian", "quadratic"]),
    at_margin=st.floats(0.01, 0.9),
)
def test_tolerance_is_one_inside_and_falls_off_monotonically_within_zero_and_one(
    x, lower, width, margin, sigmoid, at_margin
):
    bounds = (lower, lower + width)
    value = float(tolerance(jnp.array(x), bounds, margin, sigmoid, at_margin))
    assert 0.0 <= value <= 1.0
    if bounds[0] <= x <= bounds[1]:
        assert value == 1.0
    else:
        farther = x - 0.5 if x < bounds[0] else x + 0.5
        assert float(tolerance(jnp.array(farther), bounds, margin, sigmoid, at_margin)) <= value + 1e-6
