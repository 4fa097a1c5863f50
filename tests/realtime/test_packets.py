"""What the server sends is text: JSON packets, never Socket.IO binary attachments."""

from __future__ import annotations

import pytest
from socketio import packet

from app.extensions import socketio
from app.realtime.packets import DeskPacket


def test_the_server_builds_its_packets_as_desk_packets(app):
    assert socketio.server.packet_class is DeskPacket


def test_a_message_and_its_acknowledgement_are_text_packets():
    message = {"id": 7, "chat_id": 3, "body": "héllo <b>", "sender": {"role": "VISITOR"}}
    event = DeskPacket(packet.EVENT, data=["message", message], namespace="/chat")
    ack = DeskPacket(packet.ACK, data=[{"ok": True, "message": message}], namespace="/chat",
                     id=12)
    assert event.encode() == ('2/chat,["message",{"id":7,"chat_id":3,'
                              '"body":"h\\u00e9llo <b>","sender":{"role":"VISITOR"}}]')
    assert ack.encode().startswith('3/chat,12[{"ok":true,')


def test_bytes_handed_to_an_emit_fail_loudly_instead_of_going_out_as_binary():
    with pytest.raises(TypeError):
        DeskPacket(packet.EVENT, data=["message", b"\x00\x01"], namespace="/chat").encode()
    # python-socketio's own packet would have sent them as a binary event.
    assert packet.Packet(packet.EVENT, data=["message", b"\x00"]).packet_type == packet.BINARY_EVENT


def test_what_clients_send_is_read_as_before():
    received = DeskPacket(encoded_packet='2/chat,5["send",{"chat_id":1,"body":"hi"}]')
    assert (received.packet_type, received.namespace, received.id) == (packet.EVENT, "/chat", 5)
    assert received.data == ["send", {"chat_id": 1, "body": "hi"}]
