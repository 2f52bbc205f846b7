"""Incremental checkpoints (issue #15, item 3): after `PARENT <checkpoint-dir>` the
agent writes only the pages written since its image there (userfaultfd write-protect,
PAGEMAP_SCAN) and refers to the parent for the rest; the restorer follows the chain,
checks every image of it, and refuses a missing, damaged, foreign or cyclic parent
with one line."""
import json
import os
import shutil
import struct
import subprocess

import imagefmt
from run_tests import RESTORE, SCEN, check, finish, kill_agent_process, lines, wait_lines
from t_restart import failing_restart

MIB = 48


def checkpoint(env, agent, ck, parent=None, resume=True):
    """SUSPEND, FDS, PARENT, WRITE (meta.json as minicoord writes it) -> (PARENT answer, image path)"""
    os.makedirs(ck, mode=0o700, exist_ok=True)
    r = agent.request("SUSPEND")
    check(r.startswith("SUSPENDED"), lambda: r)
    fds = agent.fds()
    answer = agent.request("PARENT " + (parent or "-"))
    check(answer.startswith("PARENT "), lambda: "PARENT: " + answer)
    r = agent.request("WRITE " + ck)
    check(r.startswith("WRITTEN "), lambda: "WRITE: " + r)
    _, nbytes, nareas, image = r.split(" ", 3)
    from minicoord import shared_areas
    meta = {"pid": agent.pid, "image": image, "fds": fds, "hello": agent.hello, "bytes": int(nbytes),
            "areas": int(nareas), "shared": shared_areas(agent.host_pid)}
    with open(os.path.join(ck, "meta.json"), "w") as f:
        json.dump(meta, f)
    if resume:
        check(agent.request("RESUME 0") == "RESUMED")
    return answer, image


def chain_of_three(env, steps=400):
    """incr_pages checkpointed full, then twice incrementally; killed after the third.
    -> (cks, images)"""
    proc, agent, path = env.launch([SCEN + "/incr_pages", str(MIB), str(steps), "20"])
    cks, images = [], []
    for g in range(3):
        wait_lines(path, len(lines(path)) + 3, proc, timeout=60)
        ck = os.path.join(env.dir, "ck%d" % (g + 1))
        answer, image = checkpoint(env, agent, ck, cks[-1] if cks else None, resume=g < 2)
        want = "PARENT incremental" if cks else "PARENT full a full checkpoint was asked for"
        check(answer == want, lambda: "generation %d: %r" % (g + 1, answer))
        cks.append(ck)
        images.append(image)
    kill_agent_process(agent, proc)
    return cks, images


def test_incremental_chain(env):
    cks, images = chain_of_three(env)
    full, second, third = (imagefmt.read_image(i, all_crcs=True) for i in images)
    check(full["parent"] == "" and full["version"] == 2, lambda: "first image: %r" % full["parent"])
    for img, parent, pimg in ((second, cks[0], full), (third, cks[1], second)):
        check(img["parent"] == "%s/image-%d.img" % (os.path.basename(parent), img["pid"]),
              lambda: "parent named %r" % img["parent"])
        check(img["parent_id"] == pimg["image_id"], lambda: "parent id differs")
        # a few dozen pages changed between checkpoints of a 48 MiB process
        check(img["file_size"] * 10 < full["file_size"],
              lambda: "incremental image %d bytes, full %d" % (img["file_size"], full["file_size"]))
        check(sum(a["parent_bytes"] for a in img["areas"]) >= (MIB - 2) << 20,
              lambda: "the parent is not referenced for the clean pages")
    checked = subprocess.run([RESTORE, "--check", images[2]], capture_output=True, text=True, timeout=60)
    check(checked.returncode == 0, lambda: "--check: %s" % checked.stderr)
    # restart from the third: every page of the chain checked by the program
    proc, agent, path, _ = env.restart(cks[2])
    wait_lines(path, len(lines(path)) + 3, proc, timeout=60)
    # incremental again after the restart (tracking set up by the restored agent)
    ck4 = os.path.join(env.dir, "ck4")
    answer, image4 = checkpoint(env, agent, ck4, cks[2], resume=False)
    check(answer == "PARENT incremental", lambda: "after restart: %r" % answer)
    kill_agent_process(agent, proc)
    fourth = imagefmt.read_image(image4, all_crcs=True)
    check(fourth["file_size"] * 10 < full["file_size"], lambda: "fourth image %d bytes" % fourth["file_size"])
    proc, agent, path, _ = env.restart(ck4, memory="copy")
    out = finish(proc, path, timeout=120)
    check(any(" restarted 2" in line for line in out), lambda: "no second restart seen: %s" % out[-3:])


def test_incremental_written_pages_protected_again(env):
    """the pages an incremental image stored are protected again (by its own scan): the
    next image, taken before the program writes them again, holds none of them"""
    change = 1024                                      # 4 MiB rewritten at each step, every 3 s
    proc, agent, path = env.launch([SCEN + "/incr_pages", "16", "1000", "3000", str(change)])
    wait_lines(path, 2, proc, timeout=60)
    first = os.path.join(env.dir, "p1")
    checkpoint(env, agent, first)
    sizes = None
    for attempt in range(3):                           # two images between the same two steps
        seen = len(lines(path))
        wait_lines(path, seen + 1, proc, timeout=60)
        seen = len(lines(path))
        second, third = (os.path.join(env.dir, "p%d%s" % (n, attempt)) for n in (2, 3))
        _, image2 = checkpoint(env, agent, second, first)
        answer, image3 = checkpoint(env, agent, third, second)
        check(answer == "PARENT incremental", lambda: answer)
        if len(lines(path)) == seen:
            sizes = [imagefmt.read_image(i)["data_bytes"] for i in (image2, image3)]
            break
        first = third
    kill_agent_process(agent, proc)
    check(sizes is not None, lambda: "no two checkpoints between two steps 3 s apart")
    # a step rewrites CHANGE pages picked at random (a few twice)
    check(sizes[0] * 2 >= change * 4096, lambda: "the second image holds %d bytes of a step's %d" % (sizes[0],
                                                                                               change * 4096))
    check(sizes[1] * 8 < change * 4096, lambda: "the third image holds %d bytes: the second's pages again" % sizes[1])


def test_incremental_not_possible(env):
    """no parent image of this process there: full, with the reason in one line"""
    proc, agent, path = env.launch([SCEN + "/incr_pages", "4", "100", "20"])
    wait_lines(path, 2, proc)
    answer, _ = checkpoint(env, agent, os.path.join(env.dir, "a"), os.path.join(env.dir, "nowhere"))
    check(answer == "PARENT full no dirty page tracking since a checkpoint of this process", lambda: answer)
    answer, _ = checkpoint(env, agent, os.path.join(env.dir, "b"), os.path.join(env.dir, "nowhere"))
    check(answer == "PARENT full the parent checkpoint holds no image of this process", lambda: answer)
    kill_agent_process(agent, proc)


def restart_fails(env, ck, image, want):
    plan = os.path.join(ck, "restart.plan")
    env.coord.write_plan(ck, plan)
    rc, out, _ = failing_restart(env, plan, timeout=60)
    check(rc == 1 and len(out) >= 1 and want in out[-1], lambda: "restorer rc %s: %r" % (rc, out))
    checked = subprocess.run([RESTORE, "--check", image], capture_output=True, text=True, timeout=60)
    check(checked.returncode == 1 and want in checked.stderr, lambda: "--check: %r" % checked.stderr)
    return out[-1]


def rewrite_header(image, offset, data):
    """patch header bytes and fix the header checksum"""
    with open(image, "r+b") as f:
        h = bytearray(f.read(imagefmt.HEADER_SIZE))
        h[offset:offset + len(data)] = data
        h[imagefmt.OFF_HEADER_CRC:imagefmt.OFF_HEADER_CRC + 4] = b"\0\0\0\0"
        struct.pack_into("<I", h, imagefmt.OFF_HEADER_CRC, imagefmt.crc32c(bytes(h)))
        f.seek(0)
        f.write(h)


def test_broken_parents_refused(env):
    cks, images = chain_of_three(env)
    child, parent = images[2], images[1]
    name = os.path.basename(child)
    # missing: the parent checkpoint moved away
    moved = cks[1] + ".moved"
    os.rename(cks[1], moved)
    line = restart_fails(env, cks[2], child, "is missing")
    check(line.startswith("stasis: image %s: its parent image ck2/" % name), lambda: line)
    os.rename(moved, cks[1])
    # truncated
    saved = parent + ".saved"
    shutil.copyfile(parent, saved)
    size = os.path.getsize(parent)
    os.truncate(parent, size - 8192)
    line = restart_fails(env, cks[2], child, "image is truncated")
    check(line.startswith("stasis: image ck2/%s (a parent of %s): " % (name, name)), lambda: line)
    # corrupt page data of the grandparent (the full image): a checksum mismatch
    gp = images[0]
    g = imagefmt.read_image(gp)
    with open(gp, "r+b") as f:
        f.seek(g["data_offset"] + g["data_bytes"] // 2)
        f.write(b"\xde\xad\xbe\xef")
    shutil.copyfile(saved, parent)
    line = restart_fails(env, cks[2], child, "is corrupt (checksum mismatch)")
    check(line.startswith("stasis: image ck1/%s (a parent of %s): page data of area" % (name, name)), lambda: line)
    # a parent from another computation (another id)
    shutil.copyfile(saved, parent)
    rewrite_header(parent, imagefmt.OFF_PROC_IMAGE_ID, struct.pack("<Q", 0x1234567))
    restart_fails(env, cks[2], child, "is not the image this one was taken over")
    # a cycle: the parent names the child as its parent
    shutil.copyfile(saved, parent)
    child_img = imagefmt.read_image(child)
    ref = ("ck3/" + name).encode()
    rewrite_header(parent, imagefmt.OFF_PROC_PARENT_ID, struct.pack("<Q", child_img["image_id"]))
    rewrite_header(parent, imagefmt.OFF_PROC_PARENT, ref + b"\0" * (imagefmt.PARENT_LEN - len(ref)))
    restart_fails(env, cks[2], child, "form a cycle")


def test_compact(env):
    """stasis-restore --compact: a self-contained copy that restarts without its parents"""
    cks, images = chain_of_three(env)
    ck = os.path.join(env.dir, "compact")
    os.mkdir(ck, 0o700)
    out = os.path.join(ck, os.path.basename(images[2]))
    r = subprocess.run([RESTORE, "--compact", images[2], out], capture_output=True, text=True, timeout=120)
    check(r.returncode == 0 and not r.stderr, lambda: "--compact: %s" % r.stderr)
    copy, chained = imagefmt.read_image(out, all_crcs=True), imagefmt.read_image(images[2])
    check(copy["parent"] == "" and copy["parent_id"] == 0, lambda: "the copy names a parent")
    check(copy["image_id"] == chained["image_id"], lambda: "the copy has another id")
    check(all(a["parent_bytes"] == 0 for a in copy["areas"]), lambda: "the copy has parent runs")
    check(copy["data_bytes"] >= MIB << 20, lambda: "the copy holds only %d bytes" % copy["data_bytes"])
    with open(os.path.join(cks[2], "meta.json")) as f:
        meta = json.load(f)
    meta["image"] = out
    with open(os.path.join(ck, "meta.json"), "w") as f:
        json.dump(meta, f)
    for old in cks:
        shutil.rmtree(old)
    again = subprocess.run([RESTORE, "--compact", out, out], capture_output=True, text=True, timeout=60)
    check(again.returncode == 1 and again.stderr.startswith("stasis: image ") and "cannot create" in again.stderr,
          lambda: "compact over an existing file: %r" % again.stderr)
    proc, agent, path, _ = env.restart(ck)
    finish(proc, path, timeout=120)


class _ParentBeforeWrite:
    """while active, every WRITE of minicoord's tree checkpoints is preceded by PARENT"""
    def __init__(self, parent):
        import minicoord
        self.cls, self.parent, self.answers = minicoord.Agent, parent, []

    def __enter__(self):
        real, me = self.cls.request, self
        self.real = real

        def request(agent, line, *a, **k):
            if line.startswith("WRITE "):
                me.answers.append(real(agent, "PARENT " + (me.parent or "-"), *a, **k))
            return real(agent, line, *a, **k)
        self.cls.request = request
        return self

    def __exit__(self, *exc):
        self.cls.request = self.real


def test_incremental_tree(env):
    """a process tree (pipes, a zombie, process groups): full, then incremental, restarted"""
    proc, first, path = env.launch([os.path.join(SCEN, "forktree"), "tree", "150"])
    wait_lines(path, 1, proc)
    with env.coord.cond:
        env.coord.agents.append(first)
    _, rpid, apid = lines(path)[0].split()
    root = env.coord.wait_agent(lambda x: x.pid == int(rpid))
    known = [root, env.coord.wait_agent(lambda x: x.pid == int(apid))]
    wait_lines(path, len(lines(path)) + 10, proc)
    ck1, ck2 = os.path.join(env.dir, "ck1"), os.path.join(env.dir, "ck2")
    with _ParentBeforeWrite(None):
        known = env.coord.checkpoint_tree(known, ck1)
    wait_lines(path, len(lines(path)) + 5, proc)
    with _ParentBeforeWrite(ck1) as p:
        agents = env.coord.checkpoint_tree(known, ck2, resume=False)
    check(len(agents) == 3 and p.answers == ["PARENT incremental"] * 3, lambda: p.answers)
    for name in os.listdir(ck2):
        if name.endswith(".img"):
            img = imagefmt.read_image(os.path.join(ck2, name))
            check(img["parent"] == "ck1/" + name, lambda: "%s: parent %r" % (name, img["parent"]))
    kill_agent_process(root, proc)
    for a in agents:
        a.close()
    path, f = env.log()
    proc, restored = env.coord.restart_tree(RESTORE, ck2, f)
    env.procs.append(proc)
    check(sorted(restored) == sorted(a.pid for a in agents))
    out = finish(proc, path)
    check("A reaped B" in out, lambda: out[-5:])


TESTS = [test_incremental_chain, test_incremental_tree, test_incremental_not_possible,
         test_incremental_written_pages_protected_again, test_broken_parents_refused, test_compact]
