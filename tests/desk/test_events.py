"""How the desk tells its listeners what happened."""

from __future__ import annotations

from app.desk import events


def test_events_of_a_batch_reach_listeners_together_and_in_order(desk):
    deliveries: list[list] = []
    events.subscribe(deliveries.append)
    try:
        with events.batched():
            events.publish("first")
            with events.batched():  # nested: the outer block delivers
                events.publish("second", "third")
            assert deliveries == []
        events.publish("alone")
        try:
            with events.batched():
                events.publish("committed before the error")
                raise RuntimeError("boom")
        except RuntimeError:
            pass
    finally:
        events.unsubscribe(deliveries.append)
    assert deliveries == [["first", "second", "third"], ["alone"],
                          ["committed before the error"]]
