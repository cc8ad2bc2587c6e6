"""What a run logs, declared by whoever computes it.

An engine (or a train-step model, or a periodic probe such as the discriminator's F1) declares a
:class:`LogSpec`: its values in column order, which one is "the divergence" (drawn in
``GAN_compare.py``'s divergence figures), and which values are drawn together in which plot.
The shared code follows the declaration and never names a value itself:

* ``log.csv`` has the columns ``iteration, <declared values...>, seconds``;
* TensorBoard gets every declared value;
* the progress line shows the values marked ``progress`` with their short labels;
* ``plots/<file>.png`` is drawn for each declared :class:`Plot`;
* the declaration is stored in ``config.json`` so that a run directory alone can be replotted.

A value that an engine returns without having declared it raises :class:`UndeclaredLogValue`
(Mimicry's lesson: a model must be able to log any scalar, and a silently dropped one is a bug);
a declared value that it does not return raises :class:`MissingLogValue` (a train step's tracker
that nothing updated would be logged as 0 every iteration).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


class UndeclaredLogValue(ValueError):
    """An engine returned a log value it did not declare (a programming error)."""


class MissingLogValue(ValueError):
    """An engine did not return a log value it declared (a programming error)."""


@dataclass(frozen=True)
class LogValue:
    """One logged scalar.

    Attributes:
        name: the column name in log.csv (and the TensorBoard tag).
        label: short label on the progress line ("D", "acc", "JSD").
        description: what it is, for plot legends.
        percent: show as a percentage on the progress line.
        progress: show it on the progress line at all.
        alarm: for an event flag (0 or 1, e.g. "mode collapse detected"): the message the loop prints
            when the flag is set; plots mark such iterations (``Plot.events``).
    """

    name: str
    label: str
    description: str
    percent: bool = False
    progress: bool = True
    alarm: str = ""

    def format(self, value: float) -> str:
        return f"{self.label} {100 * value:.1f}%" if self.percent else f"{self.label} {value:.4f}"


@dataclass(frozen=True)
class Plot:
    """One figure, ``plots/<file>``: the named values against the iteration (raw and smoothed).

    ``hlines``: reference lines as (y, label), e.g. log 2, the JSD's maximum.
    ``markers``: draw the values as points (for values logged only every N iterations).
    ``events``: event flags (LogValues with an ``alarm``) whose iterations are marked with a line.
    """

    file: str
    title: str
    values: tuple[str, ...]
    ylabel: str
    hlines: tuple[tuple[float, str], ...] = ()
    markers: bool = False
    events: tuple[str, ...] = ()


@dataclass(frozen=True)
class LogSpec:
    values: tuple[LogValue, ...]
    divergence: str | None = None   # the value GAN_compare.py's divergence figures draw
    plots: tuple[Plot, ...] = field(default_factory=tuple)

    def __post_init__(self):
        names = self.names
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate log values in {names}")
        for plot in self.plots:
            missing = (set(plot.values) | set(plot.events)) - set(names)
            if missing:
                raise ValueError(f"plot {plot.file} names undeclared values {sorted(missing)}")
        if self.divergence is not None and self.divergence not in names:
            raise ValueError(f"divergence {self.divergence!r} is not a declared value")

    @property
    def names(self) -> list[str]:
        return [v.name for v in self.values]

    def value(self, name: str) -> LogValue:
        return next(v for v in self.values if v.name == name)

    def merge(self, other: "LogSpec | None") -> "LogSpec":
        """This declaration followed by another's (e.g. an engine's and a probe's)."""
        if other is None:
            return self
        return LogSpec(self.values + other.values, self.divergence or other.divergence, self.plots + other.plots)

    def check(self, logs: dict) -> None:
        """UndeclaredLogValue when ``logs`` holds a name that is not declared; MissingLogValue when
        a declared name is not in ``logs``."""
        unknown = sorted(set(logs) - set(self.names))
        if unknown:
            raise UndeclaredLogValue(f"log value(s) {', '.join(unknown)} returned but not declared "
                                     f"(declared: {', '.join(self.names)}): add them to the LogSpec")
        missing = [name for name in self.names if name not in logs]
        if missing:
            raise MissingLogValue(f"log value(s) {', '.join(missing)} declared but not returned "
                                  f"(returned: {', '.join(logs) or 'nothing'}): return them, or remove them "
                                  f"from the LogSpec")

    def alarms(self, logs: dict) -> list[str]:
        """The messages of the event flags set in ``logs``."""
        return [v.alarm for v in self.values if v.alarm and logs.get(v.name)]

    def progress_text(self, logs: dict) -> str:
        return " | ".join(v.format(logs[v.name]) for v in self.values if v.progress and v.name in logs)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "LogSpec":
        return cls(
            values=tuple(LogValue(**v) for v in data["values"]),
            divergence=data.get("divergence"),
            plots=tuple(Plot(**{**p, "values": tuple(p["values"]), "events": tuple(p.get("events", ())),
                                "hlines": tuple(tuple(h) for h in p.get("hlines", ()))}) for p in data.get("plots", ())),
        )


LOSSES_PLOT = Plot("losses.png", "losses", ("d_loss", "g_loss"), "loss")
D_LOSS = LogValue("d_loss", "D", "discriminator loss")
G_LOSS = LogValue("g_loss", "G", "generator loss")
D_ACC = LogValue("d_acc", "acc", "discriminator accuracy on its real and fake batch", percent=True)
