"""itpump HIL: a client for the control channel of ``itpump run`` and a pytest plugin.

Standard library only (Python 3.11). See HIL/README.md, "Python client and pytest plugin".
"""

from .client import (AlarmSeen, ConnectionLost, ItpumpError, Pump, Refused, Reply, ReplyTimeout,
                     RequestError, Status, Subscription, WaitTimeout)
from .durations import DurationError, duration_ns, format_duration, instant_ns
from .runner import RunnerFailed, RunnerProcess, default_binary

__all__ = [
    "AlarmSeen", "ConnectionLost", "DurationError", "ItpumpError", "Pump", "Refused", "Reply", "ReplyTimeout",
    "RequestError", "RunnerFailed", "RunnerProcess", "Status", "Subscription", "WaitTimeout", "default_binary", "duration_ns",
    "format_duration", "instant_ns",
]
