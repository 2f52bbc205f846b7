"""Unit tests of how stasis.checkpoint() tells why a checkpoint was aborted: the reason
comes from the coordinator's event log (the line of the request, not an older one)."""
import datetime
import json
import os
import sys
import unittest
from typing import Any, List, Tuple
from unittest import mock

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import stasis  # noqa: E402

UTC = datetime.timezone.utc


def entry(time: str, message: str) -> dict:
    return {"time": time, "operation": "coordinator", "step": "core:requested", "actor": "core", "millis": 0,
            "status": "warning", "message": message}


class AbortReasonTest(unittest.TestCase):
    def test_instants_of_any_fraction(self) -> None:
        want = datetime.datetime(2026, 12, 3, 7, 10, 8, 63000, tzinfo=UTC)
        self.assertEqual(stasis._instant("2026-12-03T07:10:08.063Z"), want)
        self.assertEqual(stasis._instant("2026-12-03T07:10:08.063000001Z"), want)
        self.assertEqual(stasis._instant("2026-12-03T07:10:08Z"), want.replace(microsecond=0))
        self.assertIsNone(stasis._instant("yesterday"))

    def test_the_reason_of_this_request_without_the_prefixes(self) -> None:
        log = [entry("2026-12-03T07:00:00Z", "checkpoint requested by process 7 failed: an old reason"),
               entry("2026-12-03T07:10:08.063Z", "checkpoint requested by process 13372 failed: checkpoint "
                     "c-1 aborted: plugin 'ipython-config' failed in write: cannot read /p/notes.txt")]
        calls: List[str] = []

        def execute(command: str, **kw: Any) -> Tuple[int, str, str]:
            calls.append(command)
            return 0, json.dumps(log), ""
        asked = datetime.datetime(2026, 12, 3, 7, 10, 7, tzinfo=UTC)
        with mock.patch.object(stasis._control, "execute", execute):
            self.assertEqual(stasis._abort_reason(asked),
                             "plugin 'ipython-config' failed in write: cannot read /p/notes.txt")
        self.assertEqual(calls, ["stasis:events --json -n 20"])

    def test_an_older_line_is_not_this_requests_reason(self) -> None:
        log = [entry("2026-12-03T07:00:00Z", "checkpoint requested by process 7 failed: an old reason")]
        asked = datetime.datetime(2026, 12, 3, 7, 10, 7, tzinfo=UTC)
        with mock.patch.object(stasis._control, "execute", lambda c, **kw: (0, json.dumps(log), "")), \
                mock.patch("time.sleep"), mock.patch("time.monotonic", side_effect=[0.0, 1.0, 3.0]):
            self.assertIsNone(stasis._abort_reason(asked))

    def test_no_coordinator_no_reason(self) -> None:
        def unreachable(command: str, **kw: Any) -> Tuple[int, str, str]:
            raise stasis._control.ControlError("cannot reach coordinator")
        with mock.patch.object(stasis._control, "execute", unreachable):
            self.assertIsNone(stasis._abort_reason(datetime.datetime.now(UTC)))


if __name__ == "__main__":
    unittest.main()
