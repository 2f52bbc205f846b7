"""FReD sessions in one process: each has its own coordinator name."""
import os
import shutil
import stat
import tempfile
import unittest
from unittest import mock

from stasis.fred.session import Session


class SessionNamesTest(unittest.TestCase):
    def test_two_sessions_in_one_process_use_two_coordinators(self) -> None:
        # The second session used to take the first one's name (fred-<pid>) and could
        # join that coordinator while it was still shutting down.
        home = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, home)
        os.mkdir(os.path.join(home, "bin"))
        cli = os.path.join(home, "bin", "stasis")
        with open(cli, "w") as f:
            f.write("#!/bin/sh\nexit 1\n")
        os.chmod(cli, stat.S_IRWXU)
        with mock.patch.dict(os.environ, {"STASIS_HOME": home}):
            first, second = Session("python3", ["x.py"]), Session("python3", ["x.py"])
        for s in (first, second):
            self.addCleanup(shutil.rmtree, s.dir, True)
        self.assertNotEqual(first.name, second.name)
        self.assertTrue(first.name.startswith("fred-%d-" % os.getpid()))


if __name__ == "__main__":
    unittest.main()
