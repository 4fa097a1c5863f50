"""The desk's Socket.IO packets: JSON, never binary attachments."""

from __future__ import annotations

from socketio import packet


class DeskPacket(packet.Packet):
    """python-socketio's packet, without its search for bytes in what goes out.

    For every packet it builds, python-socketio walks the data looking for bytes to send as
    binary attachments: on a busy desk, for each message and each acknowledgement, about
    half the cost of building the packet. The desk sends JSON only (files go over HTTP);
    bytes handed to an emit would fail to encode, loudly, rather than go out as
    attachments. What clients send is read as before.
    """

    uses_binary_events = False
