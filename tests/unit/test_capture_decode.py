"""The header decoding compiled at install (bot/capture/_decode.c) gives exactly the fields the
numpy decoding gives: on every layer it knows, cut at every length, on random bytes under
every link type, and on every batch of the corpus."""

from __future__ import annotations

import dataclasses
import random
import struct

import numpy as np
import pytest
from capture_files import CORPUS, outcome, sample_captures

from bot.capture import decode, tally
from bot.capture.archive import open_export
from bot.capture.decode import LINK_NAMES, Decoded
from bot.capture.records import Batch, Reader
from bot.errors import CaptureError

needs_compiled = pytest.mark.skipif(
    decode.COMPILED is None,
    reason="the compiled decoding was not built (no C compiler at install)",
)


def _ipv4(rng: random.Random, proto: int, payload: bytes, fragment: int = 0) -> bytes:
    options = rng.choice((b"", b"\x01\x01\x01\x00"))
    first = 0x40 | (5 + len(options) // 4)
    head = struct.pack(">BBHHHBBH4s4s", first, 0, 20 + len(options) + len(payload), 1,
                       fragment, 64, proto, 0, rng.randbytes(4), rng.randbytes(4))  # fmt: skip
    return head + options + payload


def _ipv6(rng: random.Random, proto: int, payload: bytes) -> bytes:
    extensions, nxt = b"", proto
    for kind in rng.sample((0, 43, 60, 44), rng.randrange(0, 3)):
        if kind == 44:  # fragment header: a first or a later fragment
            offset = rng.choice((0, 0x0008))
            extensions = struct.pack(">BBHI", nxt, 0, offset, 7) + extensions
        else:
            extensions = struct.pack(">BB6x", nxt, 0) + extensions
        nxt = kind
    src = rng.choice((rng.randbytes(16), b"\xfe\x80" + b"\x00" * 13 + b"\x01"))
    head = struct.pack(">IHBB", 0x60000000, len(extensions) + len(payload), nxt, 64)
    return head + src + rng.randbytes(16) + extensions + payload


def _transport(rng: random.Random) -> tuple[int, bytes]:
    kind = rng.choice(("tcp", "udp", "icmp", "icmp6", "gre", "none"))
    if kind == "tcp":
        return 6, struct.pack(">HHIIBBHHH", rng.randrange(65536), rng.randrange(65536), 1, 2,
                              0x50, rng.randrange(256), 512, 0, 0)  # fmt: skip
    if kind == "udp":
        return 17, struct.pack(">HHHH", rng.randrange(65536), 53, 8, 0)
    if kind in ("icmp", "icmp6"):
        return (1 if kind == "icmp" else 58), b"\x08\x00\x00\x00"
    return (47 if kind == "gre" else 59), rng.randbytes(rng.randrange(0, 8))


def _network(rng: random.Random) -> tuple[int, bytes]:
    """(ethertype, bytes) of one network packet: IPv4, IPv6, ARP, MPLS, PPPoE or unknown."""
    proto, payload = _transport(rng)
    kind = rng.choice(("v4", "v4", "v4frag", "v6", "v6", "arp", "mpls", "pppoe", "other"))
    if kind == "v4":
        return 0x0800, _ipv4(rng, proto, payload)
    if kind == "v4frag":
        return 0x0800, _ipv4(rng, proto, payload, fragment=rng.choice((0x2000, 0x0010)))
    if kind == "v6":
        return 0x86DD, _ipv6(rng, proto, payload)
    if kind == "arp":
        return 0x0806, rng.randbytes(28)
    inner = rng.choice((_ipv4(rng, proto, payload), _ipv6(rng, proto, payload)))
    if kind == "mpls":
        labels = rng.randrange(1, 6)
        stack = b"".join(
            struct.pack(">I", (i << 12) | ((1 if i == labels - 1 else 0) << 8) | 64)
            for i in range(labels)
        )
        return rng.choice((0x8847, 0x8848)), stack + inner
    if kind == "pppoe":
        ppp = rng.choice((0x0021, 0x0057, 0xC021))
        return 0x8864, struct.pack(">BBHHH", 0x11, 0, 1, len(inner) + 2, ppp) + inner
    return rng.randrange(0x0600, 0xFFFF), rng.randbytes(rng.randrange(0, 40))


def _tags(rng: random.Random, ethertype: int) -> bytes:
    """Up to four VLAN tags in front of ``ethertype`` (the decoder strips three)."""
    out = b""
    for _ in range(rng.choice((0, 0, 1, 2, 4))):
        out += struct.pack(">H", rng.choice((0x8100, 0x88A8, 0x9100)))
        out += struct.pack(">H", rng.randrange(65536))
    return out + struct.pack(">H", ethertype)


def _frame(rng: random.Random, link: int) -> bytes:
    ethertype, packet = _network(rng)
    if link == 1:
        return rng.randbytes(12) + _tags(rng, ethertype) + packet
    if link == 113:  # Linux cooked: packet type, ARPHRD, address length, address, protocol
        return struct.pack(">HHH8sH", 0, 1, 6, rng.randbytes(8), ethertype) + packet
    if link == 276:
        return struct.pack(">HHIHBB8s", ethertype, 0, 2, 1, 0, 6, rng.randbytes(8)) + packet
    if link in (0, 108):
        family = rng.choice((2, 10, 24, 28, 30, 7))
        order = "<" if link == 0 and rng.random() < 0.7 else ">"
        return struct.pack(order + "I", family) + packet
    if link in (101, 12, 14, 228, 229):
        return packet
    return rng.randbytes(rng.randrange(0, 80))  # a link type nobody decodes


LINKS = [*sorted(LINK_NAMES), 105, 147]


def _batch(frames: list[tuple[int, bytes]], cut: bool = True) -> Batch:
    buf, data, caplen, links = bytearray(), [], [], []
    rng = random.Random(len(frames))
    for link, frame in frames:
        kept = rng.randrange(0, len(frame) + 1) if cut else len(frame)
        data.append(len(buf))
        caplen.append(kept)
        links.append(link)
        buf += frame[:kept]
    column = np.asarray
    return Batch(
        np.frombuffer(bytes(buf), np.uint8),
        column(data, np.int64),
        column(caplen, np.int64),
        column(caplen, np.int64),
        np.zeros(len(frames), np.float64),
        column(links, np.int64),
    )


def _same(batch: Batch) -> Decoded:
    fast, slow = decode.decode(batch), decode.decode(batch, compiled=False)
    for item in dataclasses.fields(Decoded):
        mine, theirs = getattr(fast, item.name), getattr(slow, item.name)
        if isinstance(theirs, np.ndarray):
            assert mine.dtype == theirs.dtype, item.name
            assert np.array_equal(mine, theirs), item.name
        else:
            assert mine == theirs, item.name
    return fast


@needs_compiled
@pytest.mark.parametrize("link", LINKS)
def test_every_layer_decodes_the_same_whole_and_cut_at_any_length(link: int) -> None:
    rng = random.Random(link)
    frames = [(link, _frame(rng, link)) for _ in range(3000)]
    whole = _same(_batch(frames, cut=False))
    _same(_batch(frames, cut=True))
    expected = {228: {1}, 229: {2}}.get(link, {1, 2})  # raw IPv4 / IPv6 links: one only
    if link in (1, 113, 276, 101, 228, 229, 0, 108):  # the generator reached every layer
        assert set(whole.l3.tolist()) >= expected and set(whole.l4.tolist()) >= {1, 2, 3, 4}
        assert (whole.sport >= 0).any() and (whole.tcp_flags >= 0).any()
        assert bool(whole.v6_names) == (2 in expected)
    if link == 1:
        assert (whole.vlan_outer >= 0).any() and (whole.vlan_inner >= 0).any()


@needs_compiled
def test_random_bytes_and_mixed_links_decode_the_same() -> None:
    rng = random.Random(3)
    frames = [(rng.choice(LINKS), rng.randbytes(rng.randrange(0, 120))) for _ in range(5000)]
    frames += [(rng.choice(LINKS), _frame(rng, 1)) for _ in range(2000)]  # wrong link type
    _same(_batch(frames, cut=False))
    _same(_batch(frames, cut=True))
    _same(_batch([]))


@needs_compiled
def test_records_at_the_very_end_of_the_buffer_decode_the_same() -> None:
    rng = random.Random(5)
    for link in LINKS:
        for _ in range(50):  # the last record's fields end with the buffer
            _same(_batch([(link, _frame(rng, link))], cut=True))


@needs_compiled
@pytest.mark.parametrize("compiled", [True, False])
def test_a_record_outside_the_buffer_is_refused_by_both(compiled: bool) -> None:
    rng = random.Random(9)
    good = _batch([(1, _frame(rng, 1)) for _ in range(20)], cut=False)
    size = len(good.buf)
    for data, caplen in (
        (size - 3, 4),  # runs past the end
        ((1 << 63) - 3, 0),  # far past it: an offset that overflows when added to
        (-(1 << 62), (1 << 62) + 10),  # starts before it
        (0, -1),
    ):
        bad = dataclasses.replace(
            good,
            data=np.append(good.data, data).astype(np.int64),
            caplen=np.append(good.caplen, caplen).astype(np.int64),
            link=np.append(good.link, 1).astype(np.int64),
        )
        with pytest.raises(ValueError, match="inside the buffer"):
            decode.decode(bad, compiled=compiled)
    assert decode.COMPILED is not None
    ints, flags = np.empty((12, 1), np.int64), np.empty((2, 1), np.bool_)
    for data, caplen in ((size - 3, 4), ((1 << 63) - 3, 0)):  # the C function on its own too
        column = [np.asarray([value], np.int64) for value in (data, caplen, 1)]
        with pytest.raises(ValueError, match="inside the buffer"):
            decode.COMPILED(good.buf, *column, ints, flags)


@needs_compiled
def test_every_batch_of_the_corpus_decodes_the_same() -> None:
    batches = 0
    for name, data in sample_captures():
        try:
            for capture in open_export(data, name):
                for batch in Reader(capture).batches():
                    _same(batch)
                    batches += 1
        except CaptureError:
            continue
    assert batches >= (400 if CORPUS.is_dir() else 3)


@needs_compiled
@pytest.mark.skipif(tally.COMPILED is None, reason="the compiled tally was not built")
def test_analyses_are_the_same_with_and_without_the_compiled_decoding_and_tally(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    captures = sample_captures()
    compiled = [outcome(name, data) for name, data in captures]
    monkeypatch.setattr(decode, "COMPILED", None)
    monkeypatch.setattr(tally, "COMPILED", None)
    assert [outcome(name, data) for name, data in captures] == compiled
