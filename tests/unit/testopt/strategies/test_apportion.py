from optiloop.testopt.strategies.generators import apportion


def test_apportion_sums_to_k_and_follows_weights():
    out = apportion({"a": 0.5, "b": 0.3, "c": 0.2}, 20)
    assert out == {"a": 10, "b": 6, "c": 4}
    assert sum(apportion({"a": 1, "b": 1, "c": 1}, 7).values()) == 7
    assert apportion({"a": 0.0, "b": 0.0}, 3) in ({"a": 2, "b": 1}, {"a": 1, "b": 2})
