"""The server's WebSocket unmasking gives exactly the bytes eventlet's own would."""

from __future__ import annotations

import random

import pytest
from eventlet.websocket import RFC6455WebSocket

from app.realtime.websocket_mask import apply_mask

EVENTLETS = RFC6455WebSocket.__dict__["_apply_mask"].__func__  # before any install()


@pytest.mark.parametrize("length", [0, 1, 3, 4, 5, 125, 126, 4000, 70_000])
def test_the_same_bytes_as_eventlets_for_every_length_and_offset(length):
    rng = random.Random(length)
    data = bytes(rng.getrandbits(8) for _ in range(length))
    mask = bytes(rng.getrandbits(8) for _ in range(4))
    for offset in (0, 1, 2, 3, 7, 4096):
        assert apply_mask(data, mask, length, offset) == EVENTLETS(data, mask, length, offset)
    # A list of ints as mask (eventlet masking a frame of its own), a bytearray as data,
    # and the length taken from the data.
    assert apply_mask(bytearray(data), list(mask)) == EVENTLETS(bytearray(data), list(mask))
    # Masking twice gives the frame back.
    assert apply_mask(apply_mask(data, mask), mask) == data
