"""Verified restarts (issue #15, item 1): the restorer checks every stored page
against its area's CRC32C by default, in parallel worker processes for large images,
and refuses a damaged image with one line naming the image and the area's address
range, before anything is started; `stasis-restore --no-verify PLAN` skips it."""
import os
import re
import subprocess
import time

import imagefmt
from run_tests import RESTORE, SCEN, check, finish, kill_agent_process, wait_lines
from t_restart import failing_restart

MIB = 80                                     # above the restorer's 32 MiB: worker processes
LINE = re.compile(r"stasis: image image-\d+\.img: page data of area \d+ \(0x[0-9a-f]+-0x[0-9a-f]+\) "
                  r"is corrupt \(checksum mismatch\)")


def python_checkpoint(env):
    """python_memory.py holding MIB MiB, checkpointed and killed: -> (checkpoint dir, image)"""
    proc, agent, path = env.launch(["python3", SCEN + "/python_memory.py", str(MIB), "100000", "0.05"])
    wait_lines(path, 3, proc, timeout=60)
    ck = os.path.join(env.dir, "ck")
    env.coord.checkpoint(agent, ck, resume=False)
    kill_agent_process(agent, proc)
    image = [os.path.join(ck, n) for n in os.listdir(ck) if n.endswith(".img")][0]
    return ck, image


def flip(image, offset, count=4):
    with open(image, "r+b") as f:
        f.seek(offset)
        data = f.read(count)
        f.seek(offset)
        f.write(bytes(b ^ 0xff for b in data))


def check_image(image):
    return subprocess.run([RESTORE, "--check", image], capture_output=True, text=True, timeout=60)


def test_damaged_page_data_refused_by_default(env):
    ck, image = python_checkpoint(env)
    img = imagefmt.read_image(image)
    check(img["data_bytes"] > (MIB << 20), lambda: "image holds only %d bytes" % img["data_bytes"])
    intact = check_image(image)               # every piece joined right, or an intact image would fail
    check(intact.returncode == 0, lambda: "intact image refused: %s" % intact.stderr)
    plan = os.path.join(ck, "restart.plan")
    env.coord.write_plan(ck, plan)
    with open(plan) as f:
        check("verify" not in f.read(), lambda: "the plan names verify: the default is what is tested")
    # bytes flipped in the middle of the page data, and in the last stored page
    for where in (img["data_offset"] + img["data_bytes"] // 2, img["data_offset"] + img["data_bytes"] - 100):
        flip(image, where)
        rc, out, _ = failing_restart(env, plan, timeout=60)
        check(rc == 1, lambda: "restorer rc %s: %s" % (rc, out))
        check(len(out) == 1 and LINE.fullmatch(out[0]), lambda: "not the one line: %r" % out)
        checked = check_image(image)
        check(checked.returncode == 1 and checked.stderr.strip() == out[0],
              lambda: "--check says otherwise: %r" % checked.stderr)
        flip(image, where)                    # intact again
    check(check_image(image).returncode == 0, lambda: "the image did not come back intact")


def test_no_verify_starts_a_damaged_image(env):
    ck, image = python_checkpoint(env)
    img = imagefmt.read_image(image)
    flip(image, img["data_offset"] + img["data_bytes"] // 2)
    plan = os.path.join(ck, "restart.plan")
    env.coord.write_plan(ck, plan)
    path, f = env.log()
    proc = subprocess.Popen([RESTORE, "--no-verify", plan], stdin=subprocess.DEVNULL, stdout=f, stderr=f)
    env.procs.append(proc)
    agent = env.coord.wait_agent(lambda a: a.restored > 0, timeout=30)
    check(agent.request("RESUME 1") == "RESUMED")
    # it runs, on damaged memory: python_memory.py finds its data changed (SHA-256 every 10 steps)
    deadline = time.time() + 30
    while "FAIL data changed" not in open(path).read() and time.time() < deadline:
        time.sleep(0.1)
    out = open(path).read()
    kill_agent_process(agent, proc)
    check("FAIL data changed" in out, lambda: "the damaged data went unnoticed: " + out[-200:])


def test_intact_image_restarts_verified(env):
    ck, image = python_checkpoint(env)
    p, agent, path, secs = env.restart(ck)
    wait_lines(path, 2, p, timeout=60)
    kill_agent_process(agent, p)


TESTS = [test_damaged_page_data_refused_by_default, test_no_verify_starts_a_damaged_image,
         test_intact_image_restarts_verified]
