"""What tests read off two statuses: the drug the pump delivered between them, and the part of a
status that is the therapy (what a refused command must leave exactly as it was)."""

from __future__ import annotations

from dataclasses import dataclass

from .client import Status
from .durations import NS_PER_DAY

# The fields of `status` that make up the therapy: a refused command changes none of them.
THERAPY_FIELDS = ("phase", "programmed_ng_per_day", "programmed", "schedule", "delivering_ng_per_day",
                  "delivering", "taper", "concentration_ug_per_ml", "bring_up", "sensors", "primed")


def therapy(s: Status) -> dict:
    """The therapy part of a status (``THERAPY_FIELDS``), for comparing before and after."""
    return {k: s.get(k) for k in THERAPY_FIELDS}


@dataclass(frozen=True)
class Delivery:
    """Strokes the pump performed between two statuses and the drug they pushed, in exact units:
    ``drug_pg`` = nL × μg/mL (= pg), from the controller's reservoir decrease, which is the strokes
    times the stroke volume (no refill may fall between the statuses)."""

    strokes: int
    volume_nl: int
    drug_pg: int
    elapsed_ns: int

    @property
    def stroke_nl(self) -> int | None:
        return self.volume_nl // self.strokes if self.strokes else None

    @property
    def ug_per_day(self) -> float:
        """The mean rate over the interval, μg/day (a float for reading and limits only)."""
        return self.drug_pg / 1e6 * NS_PER_DAY / self.elapsed_ns if self.elapsed_ns else 0.0

    def stroke_ug(self) -> float:
        return self.drug_pg / 1e6 / self.strokes if self.strokes else 0.0


def delivered(a: Status, b: Status) -> Delivery:
    """The delivery between status ``a`` and the later status ``b``; raises ``ValueError`` when a
    refill or a concentration change falls between them (the reservoir went up)."""
    if b.now_ns < a.now_ns:
        raise ValueError("statuses out of order")
    if a["concentration_ug_per_ml"] != b["concentration_ug_per_ml"] or b.reservoir_nl > a.reservoir_nl:
        raise ValueError("a refill falls between the two statuses; measure delivery on either side of it")
    volume = a.reservoir_nl - b.reservoir_nl
    strokes = b.strokes - a.strokes
    if strokes and volume % strokes:
        raise ValueError(f"{volume} nL in {strokes} strokes is not a whole stroke volume: the estimate moved by something else")
    return Delivery(strokes=strokes, volume_nl=volume, drug_pg=volume * int(a["concentration_ug_per_ml"]),
                    elapsed_ns=b.now_ns - a.now_ns)
