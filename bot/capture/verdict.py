"""Decide runbook step 3 from a summary: a verdict and the reasons (codes plus numbers)."""

from __future__ import annotations

from bot.capture.model import Reason, Thresholds, TrafficSummary, Verdict
from bot.errors import CaptureError


def decide(
    summary: TrafficSummary,
    thresholds: Thresholds,
    sensor_known: bool = False,
) -> tuple[Verdict, tuple[Reason, ...]]:
    """The verdict; ``sensor_known`` says whether the sensor's own traffic could be told apart."""
    s, t = summary, thresholds
    notes: list[Reason] = []
    if s.partial:
        notes.append(Reason("partial", {"detail": s.reason or ""}))
    if s.packets == 0 and s.partial:
        # nothing readable in a damaged file says nothing about the mirror
        raise CaptureError(f"no packet could be read: {s.reason or 'damaged capture'}")
    if s.packets == 0:
        return Verdict.NO_PACKETS, (Reason("no_packets", {"files": len(s.files)}), *notes)
    # A wrong clock or a hostile file (one packet in 1970, the rest today): the span says nothing
    # about how long the capture ran, so the verdict rests on packet counts alone.
    timed = s.duration_s <= t.max_span_s
    if not timed:
        notes.insert(0, Reason("implausible_span", {"years": round(s.duration_s / _YEAR_S, 1)}))
    if s.unsupported_packets == s.packets:
        links = ", ".join(sorted(s.link_types))
        return Verdict.UNSUPPORTED, (
            Reason("unsupported_link", {"packets": s.packets, "link_types": links}),
            *notes,
        )
    if s.unsupported_packets:
        notes.append(Reason("some_unsupported", {"packets": s.unsupported_packets}))
    foreign = s.foreign_packets
    if s.own_packets >= t.min_packets and foreign < t.min_packets:
        return Verdict.OWN_TRAFFIC_ONLY, (
            Reason("own_traffic", {"own": s.own_packets, "other": foreign, "min": t.min_packets}),
            *notes,
        )
    if foreign < t.min_packets:
        if not timed:
            counts = {"packets": foreign, "min_packets": t.min_packets}
            return Verdict.TOO_LITTLE, (Reason("too_little_untimed", counts), *notes)
        data = {"packets": foreign, "min_packets": t.min_packets, "duration_s": _r(s.duration_s)}
        return Verdict.TOO_LITTLE, (Reason("too_little", data), *notes)
    if timed and s.duration_s < t.min_duration_s:
        data = {"duration_s": _r(s.duration_s), "min_duration_s": t.min_duration_s}
        return Verdict.TOO_LITTLE, (Reason("too_short", data), *notes)
    if not sensor_known:
        notes.append(Reason("sensor_unknown"))
    if s.tcp_connections >= t.min_tcp_connections:
        share = s.one_sided_connections / s.tcp_connections
        data = {
            "one_sided": s.one_sided_connections,
            "connections": s.tcp_connections,
            "percent": round(100 * share, 1),
        }
        if share >= t.one_direction_share:
            return Verdict.ONE_DIRECTION, (Reason("one_direction", data), *notes)
        notes.insert(0, Reason("both_directions", data))
    else:
        notes.append(Reason("few_tcp", {"connections": s.tcp_connections}))
    if not timed:
        return Verdict.RECEIVING, (Reason("receiving_untimed", {"packets": foreign}), *notes)
    rate = foreign / s.duration_s if s.duration_s > 0 else float(foreign)
    main = Reason(
        "receiving",
        {"packets": foreign, "duration_s": _r(s.duration_s), "pps": round(rate, 1)},
    )
    return Verdict.RECEIVING, (main, *notes)


_YEAR_S = 365.25 * 86_400


def _r(seconds: float) -> float:
    return round(seconds, 3)
