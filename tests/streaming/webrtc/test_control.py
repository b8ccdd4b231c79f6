"""The one edit made to session descriptions: candidates point at the stage."""

from __future__ import annotations

import pytest

from streaming.webrtc.control import host_candidate, point_candidates_at

SDP = "\r\n".join([
    "v=0", "o=- 1 1 IN IP4 0.0.0.0", "s=-", "t=0 0",
    "m=video 40000 UDP/TLS/RTP/SAVPF 97",
    "c=IN IP4 127.0.0.1",
    "a=candidate:abc 1 udp 2130706431 127.0.0.1 40000 typ host",
    "a=candidate:def 1 udp 1694498815 10.0.0.5 40001 typ srflx raddr 127.0.0.1 rport 40000",
    "a=candidate:ghi 1 udp 2130706431 127.0.0.1 40002 typ host",
    "a=end-of-candidates", ""])


def test_the_host_candidate_is_read() -> None:
    assert host_candidate(SDP) == ("127.0.0.1", 40000)


def test_only_the_stage_address_is_left() -> None:
    out = point_candidates_at(SDP, ("127.0.0.1", 5555))
    candidates = [line for line in out.splitlines() if line.startswith("a=candidate:")]
    assert candidates == ["a=candidate:abc 1 udp 2130706431 127.0.0.1 5555 typ host"]
    assert "m=video 5555 UDP/TLS/RTP/SAVPF 97" in out.splitlines()
    assert "a=end-of-candidates" in out


def test_a_description_without_a_host_candidate_is_refused() -> None:
    with pytest.raises(ValueError, match="no UDP host candidate"):
        host_candidate("v=0\r\na=candidate:x 1 tcp 1 127.0.0.1 9 typ host\r\n")


def test_a_real_aiortc_offer_is_pointed_at_the_stage_in_every_section(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    import aioice.ice

    from streaming.webrtc.peer import peer_connection

    monkeypatch.setattr(aioice.ice, "get_host_addresses",
                        lambda use_ipv4, use_ipv6: ["127.0.0.1"])

    async def offer() -> str:
        pc = peer_connection()
        pc.addTransceiver("video", direction="recvonly")
        pc.createDataChannel("rtt")
        await pc.setLocalDescription(await pc.createOffer())
        sdp = str(pc.localDescription.sdp)
        await pc.close()
        return sdp

    sdp = asyncio.run(offer())
    real_port = host_candidate(sdp)[1]
    out = point_candidates_at(sdp, ("127.0.0.1", 5555))
    lines = out.splitlines()
    media = [line for line in lines if line.startswith("m=")]
    assert len(media) == 2 and all(line.split()[1] == "5555" for line in media)
    candidates = [line for line in lines if line.startswith("a=candidate:")]
    assert candidates and all(" 127.0.0.1 5555 typ host" in line for line in candidates)
    assert str(real_port) not in " ".join(media + candidates)
