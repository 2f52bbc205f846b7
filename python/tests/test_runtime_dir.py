"""stasis._control.runtime_dir() trusts the runtime directory only as the C client does:
a directory of our own that nobody else can use (0700). Run by `make -C python check`:
python3 -m unittest discover -s tests -p 'test_*.py'"""
import os
import shutil
import sys
import tempfile
import unittest
from unittest import mock

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from stasis import _control  # noqa: E402
from stasis.fred import session as fred_session  # noqa: E402


class RuntimeDirTest(unittest.TestCase):
    def setUp(self):
        self.top = tempfile.mkdtemp(prefix="stasis-rundir-test-")
        self.dir = os.path.join(self.top, "run")
        env = {k: v for k, v in os.environ.items() if not k.startswith("STASIS_")}
        env["STASIS_RUNTIME_DIR"] = self.dir
        patcher = mock.patch.dict(os.environ, env, clear=True)
        patcher.start()
        self.addCleanup(patcher.stop)
        self.addCleanup(shutil.rmtree, self.top)

    def refused(self, *words):
        with self.assertRaises(_control.ControlError) as caught:
            _control.runtime_dir()
        message = str(caught.exception)
        for word in words:
            self.assertIn(word, message)
        self.assertNotIn("\n", message)

    def test_missing_directory_is_named_as_is(self):
        self.assertEqual(self.dir, _control.runtime_dir())

    def test_own_private_directory_is_accepted(self):
        os.mkdir(self.dir, 0o700)
        self.assertEqual(self.dir, _control.runtime_dir())
        self.assertEqual(os.path.join(self.dir, "x.sock"), _control.control_socket("x"))

    def test_directory_open_to_others_is_refused(self):
        os.mkdir(self.dir, 0o700)
        os.chmod(self.dir, 0o755)
        self.refused("refusing runtime directory " + self.dir, "mode 755", "chmod 700 " + self.dir)
        os.chmod(self.dir, 0o710)
        self.refused("accessible by group/others")

    def test_not_a_directory_is_refused(self):
        with open(self.dir, "w"):
            pass
        self.refused("is not a directory")

    def test_someone_elses_directory_is_refused(self):
        if os.getuid() != 0:
            self.skipTest("needs root to give a directory away (chown)")
        os.mkdir(self.dir, 0o700)
        os.chown(self.dir, 65534, 65534)
        self.refused("owned by uid 65534, not by you (uid 0)")

    def test_agent_socket_directory_is_checked_too(self):
        os.mkdir(self.dir, 0o755)
        os.environ["STASIS_AGENT_SOCKET"] = os.path.join(self.dir, "default.agent.sock")
        del os.environ["STASIS_RUNTIME_DIR"]
        self.refused("accessible by group/others")

    def test_control_requests_fail_with_the_reason(self):
        os.mkdir(self.dir, 0o777)
        os.chmod(self.dir, 0o777)
        with self.assertRaises(_control.ControlError) as caught:
            _control.execute("stasis:version", name="default")
        self.assertIn("chmod 700", str(caught.exception))

    def test_fred_checks_it_too_and_ignores_the_agent_socket(self):
        os.mkdir(self.dir, 0o700)
        os.environ["STASIS_AGENT_SOCKET"] = "/elsewhere/default.agent.sock"
        self.assertEqual(self.dir, fred_session.runtime_dir())
        os.chmod(self.dir, 0o750)
        with self.assertRaises(_control.ControlError):
            fred_session.runtime_dir()


if __name__ == "__main__":
    unittest.main()
