"""Compressed images (issue #15, `--compress zstd`): after `COMPRESS zstd LEVEL` the
agent stores page data as zstd frames (one area's pages per frame, at most 4 MiB of
them); the restorer checks each frame's CRC32C, decompresses in parallel before anything
starts, and refuses a corrupt frame with one line naming the image and the area, with
or without page verification; chains may mix compressed and uncompressed images."""
import os
import re
import subprocess

import imagefmt
from run_tests import RESTORE, SCEN, check, finish, kill_agent_process, lines, wait_lines
from t_incr import checkpoint
from t_restart import failing_restart

TEXT_MIB, RAND_MIB = 64, 16                  # 80 MiB: the restorer decompresses in worker processes
LINE = re.compile(r"stasis: image image-\d+\.img: page data of area \d+ \(0x[0-9a-f]+-0x[0-9a-f]+\) "
                  r"is corrupt \(compressed frame \d+: (checksum mismatch|it does not decompress)\)")


def launch(env, steps=100000):
    proc, agent, path = env.launch(["python3", SCEN + "/compress_memory.py", str(TEXT_MIB), str(RAND_MIB),
                                    str(steps), "0.05"])
    wait_lines(path, 3, proc, timeout=120)
    return proc, agent, path


def compressed_checkpoint(env, agent, ck, parent=None, resume=False, level=1):
    check(agent.request("COMPRESS zstd %d" % level) == "COMPRESS zstd")
    answer, image = checkpoint(env, agent, ck, parent, resume=resume)
    check(agent.request("COMPRESS none") == "COMPRESS none")
    return answer, image


def check_image(image, *flags):
    return subprocess.run([RESTORE, *flags, "--check", image], capture_output=True, text=True, timeout=120)


def test_compressed_round_trip(env):
    proc, agent, path = launch(env)
    _, plain = checkpoint(env, agent, os.path.join(env.dir, "plain"), resume=True)
    ck = os.path.join(env.dir, "ck")
    _, image = compressed_checkpoint(env, agent, ck)
    kill_agent_process(agent, proc)
    p, z = imagefmt.read_image(plain), imagefmt.read_image(image)
    check(p["version"] == imagefmt.VERSION_PLAIN and p["compress"] == 0, lambda: "plain image: %r" % p["version"])
    check(z["version"] == 3 and z["compress"] == imagefmt.ZSTD and len(z["frames"]) >= (TEXT_MIB + RAND_MIB) // 4,
          lambda: "compressed image: version %d, %d frames" % (z["version"], len(z["frames"])))
    check(z["raw_bytes"] >= (TEXT_MIB + RAND_MIB) << 20, lambda: "raw bytes %d" % z["raw_bytes"])
    # the text shrinks, the random bytes do not: well under the plain image
    check(z["file_size"] < p["file_size"] - (TEXT_MIB << 19),
          lambda: "compressed %d bytes, plain %d" % (z["file_size"], p["file_size"]))
    checked = check_image(image)
    check(checked.returncode == 0, lambda: "--check: %s" % checked.stderr)
    # the random bytes did not compress: their frames are stored as they are (comp_len ==
    # raw_len), no bigger than zstd makes them
    stored = [f for f in z["frames"] if f["comp_len"] == f["raw_len"]]
    check(len(stored) >= RAND_MIB // 4 - 1, lambda: "%d frames stored as they are" % len(stored))
    with open(image, "rb") as f:
        f.seek(stored[0]["file_offset"])
        raw = f.read(stored[0]["raw_len"])
    zstd = subprocess.run(["zstd", "-1", "-c"], input=raw, capture_output=True, check=True).stdout
    check(len(zstd) >= len(raw), lambda: "zstd makes a stored frame %d bytes of %d" % (len(zstd), len(raw)))
    # the program checks both its text and its random bytes after the restart
    proc, agent, path, _ = env.restart(ck)
    wait_lines(path, len(lines(path)) + 12, proc, timeout=120)
    # the image was decompressed into memory that became the program's: the restorer
    # processes left waiting hold none of it
    for pid in restorer_pids(proc.pid):
        check(rss_mib(pid) < TEXT_MIB // 2, lambda: "restorer %d holds %d MiB" % (pid, rss_mib(pid)))
    kill_agent_process(agent, proc)
    check(not any(line.startswith("FAIL") for line in lines(path)), lambda: "program: %s" % lines(path)[-3:])


def restorer_pids(pid):
    """pid and its descendants that are still the restorer (not the restored program)"""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            with open("/proc/%d/comm" % p) as f:
                if f.read().strip() != "stasis-restore":
                    continue
            with open("/proc/%d/task/%d/children" % (p, p)) as f:
                todo += [int(c) for c in f.read().split()]
        except OSError:
            continue
        found.append(p)
    return found


def rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) >> 10


def flip(image, offset, count=16):
    with open(image, "r+b") as f:
        f.seek(offset)
        data = f.read(count)
        f.seek(offset)
        f.write(bytes(b ^ 0x5a for b in data))


def test_corrupt_frame_refused(env):
    proc, agent, path = launch(env)
    ck = os.path.join(env.dir, "ck")
    _, image = compressed_checkpoint(env, agent, ck)
    kill_agent_process(agent, proc)
    z = imagefmt.read_image(image)
    frame = z["frames"][len(z["frames"]) // 2]
    flip(image, frame["file_offset"] + frame["comp_len"] // 2)
    plan = os.path.join(ck, "restart.plan")
    env.coord.write_plan(ck, plan)
    for flags in ((), ("--no-verify",)):      # a corrupt frame is never decompressed into the program
        rc, out, _ = failing_restart(env, plan, timeout=120, flags=flags)
        check(rc == 1, lambda: "restorer %s rc %s: %s" % (flags, rc, out))
        check(len(out) == 1 and LINE.fullmatch(out[0]), lambda: "not the one line: %r" % out)
        check("area %d " % frame["area"] in out[0], lambda: "names another area: %r (frame of %d)" % (out, frame["area"]))
    checked = check_image(image)
    check(checked.returncode == 1 and LINE.fullmatch(checked.stderr.strip()), lambda: "--check: %r" % checked.stderr)


def test_corrupt_stored_frame_refused(env):
    """a frame stored as it is (random bytes) with bytes flipped: refused like a
    compressed one, before anything starts, also with --no-verify"""
    proc, agent, path = launch(env)
    ck = os.path.join(env.dir, "ck")
    _, image = compressed_checkpoint(env, agent, ck)
    kill_agent_process(agent, proc)
    z = imagefmt.read_image(image)
    stored = [f for f in z["frames"] if f["comp_len"] == f["raw_len"]]
    check(stored, lambda: "no frame stored as it is")
    frame = stored[len(stored) // 2]
    flip(image, frame["file_offset"] + frame["raw_len"] // 3)
    plan = os.path.join(ck, "restart.plan")
    env.coord.write_plan(ck, plan)
    for flags in ((), ("--no-verify",)):
        rc, out, _ = failing_restart(env, plan, timeout=120, flags=flags)
        check(rc == 1, lambda: "restorer %s rc %s: %s" % (flags, rc, out))
        check(len(out) == 1 and LINE.fullmatch(out[0]) and "checksum mismatch" in out[0],
              lambda: "not the one line: %r" % out)
        check("area %d " % frame["area"] in out[0], lambda: "names another area: %r (frame of %d)" % (out, frame["area"]))
    checked = check_image(image)
    check(checked.returncode == 1 and LINE.fullmatch(checked.stderr.strip()), lambda: "--check: %r" % checked.stderr)


def test_area_checksum_checked_after_decompression(env):
    """frames intact, an area's checksum wrong (what a writer bug would leave): the data
    is checked against it as it is decompressed (inflate.c keeps each frame's raw CRC)"""
    proc, agent, path = env.launch([SCEN + "/incr_pages", "8", "100", "20"])
    wait_lines(path, 2, proc)
    ck = os.path.join(env.dir, "ck")
    _, image = compressed_checkpoint(env, agent, ck)
    kill_agent_process(agent, proc)
    z = imagefmt.read_image(image)
    area = max(range(len(z["areas"])), key=lambda i: z["areas"][i]["bytes"])
    import struct
    from t_incr import rewrite_header
    with open(image, "r+b") as f:
        h = f.read(imagefmt.HEADER_SIZE)
        tab_off, tab_size = struct.unpack_from("<QQ", h, imagefmt.OFF_TABLE_OFFSET)
        f.seek(tab_off)
        tab = bytearray(f.read(tab_size))
        at = area * imagefmt.AREA_SIZE + 44    # struct stasis_img_area.crc32c
        struct.pack_into("<I", tab, at, struct.unpack_from("<I", tab, at)[0] ^ 1)
        f.seek(tab_off)
        f.write(tab)
    rewrite_header(image, imagefmt.OFF_TABLE_CRC, struct.pack("<I", imagefmt.crc32c(bytes(tab))))
    checked = check_image(image)
    check(checked.returncode == 1 and re.fullmatch(r"stasis: image image-\d+\.img: page data of area %d "
                                                   r"\(0x[0-9a-f]+-0x[0-9a-f]+\) is corrupt \(checksum mismatch\)"
                                                   % area, checked.stderr.strip()),
          lambda: "--check: %r" % checked.stderr)


def test_older_version_fields_refused(env):
    """a version 2 image may not claim compressed data (what an older writer never does);
    frames may not claim more raw data than the areas store"""
    proc, agent, path = env.launch([SCEN + "/incr_pages", "4", "100", "20"])
    wait_lines(path, 2, proc)
    ck = os.path.join(env.dir, "ck")
    _, image = compressed_checkpoint(env, agent, ck)
    kill_agent_process(agent, proc)
    from t_incr import rewrite_header
    import struct
    # more raw data than the areas store (what a decompression bomb would claim)
    raw_at = imagefmt.OFF_PROC_COMPRESS + 16
    with open(image, "rb") as f:
        f.seek(raw_at)
        raw = f.read(8)
    rewrite_header(image, raw_at, struct.pack("<Q", struct.unpack("<Q", raw)[0] + (1 << 40)))
    checked = check_image(image)
    check(checked.returncode == 1 and "its areas store" in checked.stderr, lambda: "--check: %r" % checked.stderr)
    rewrite_header(image, raw_at, raw)
    check(check_image(image).returncode == 0, lambda: "not intact again")
    rewrite_header(image, imagefmt.OFF_VERSION, struct.pack("<I", 2))
    checked = check_image(image)
    check(checked.returncode == 1 and "compression fields in a version 2 image" in checked.stderr,
          lambda: "--check: %r" % checked.stderr)


def test_mixed_chain(env):
    """compressed full -> plain incremental -> compressed incremental, restarted from the
    last, then a compressed incremental over the restarted one"""
    proc, agent, path = env.launch([SCEN + "/incr_pages", "48", "400", "20"])
    cks, images = [], []
    for g, compress in enumerate((True, False, True)):
        wait_lines(path, len(lines(path)) + 3, proc, timeout=60)
        ck = os.path.join(env.dir, "ck%d" % (g + 1))
        take = compressed_checkpoint if compress else checkpoint
        answer, image = take(env, agent, ck, cks[-1] if cks else None, resume=g < 2)
        check(answer == ("PARENT incremental" if cks else "PARENT full a full checkpoint was asked for"),
              lambda: "generation %d: %r" % (g + 1, answer))
        cks.append(ck)
        images.append(image)
    kill_agent_process(agent, proc)
    versions = [imagefmt.read_image(i)["version"] for i in images]
    check(versions == [3, 2, 3], lambda: "versions %r" % versions)
    checked = check_image(images[2])
    check(checked.returncode == 0, lambda: "--check: %s" % checked.stderr)
    # a self-contained copy of the compressed child: plain (version 2), every page in it
    copy = os.path.join(env.dir, "compact.img")
    compacted = subprocess.run([RESTORE, "--compact", images[2], copy], capture_output=True, text=True, timeout=120)
    check(compacted.returncode == 0, lambda: "--compact: %s" % compacted.stderr)
    c = imagefmt.read_image(copy)
    check(c["version"] == 2 and c["compress"] == 0 and c["parent"] == "", lambda: "copy: %r" % c["version"])
    check(check_image(copy).returncode == 0, lambda: "the copy does not check")
    proc, agent, path, _ = env.restart(cks[2])
    wait_lines(path, len(lines(path)) + 3, proc, timeout=60)
    ck4 = os.path.join(env.dir, "ck4")
    answer, _ = compressed_checkpoint(env, agent, ck4, cks[2], resume=False)
    check(answer == "PARENT incremental", lambda: "after restart: %r" % answer)
    kill_agent_process(agent, proc)
    proc, agent, path, _ = env.restart(ck4)
    out = finish(proc, path, timeout=120)
    check(any(" restarted 2" in line for line in out), lambda: "no second restart seen: %s" % out[-3:])


def test_tree_compressed(env):
    """a three-level tree passing records through pipes, checkpointed compressed and
    restarted as one, twice: every image decompressed (by the supervisor's check and again
    in each restored process), every record once, in order"""
    from run_tests import SCEN as scen
    proc, first, path = env.launch([os.path.join(scen, "forktree"), "tree", "100"])
    wait_lines(path, 1, proc)
    with env.coord.cond:
        env.coord.agents.append(first)
    _, rpid, apid = lines(path)[0].split()
    root = env.coord.wait_agent(lambda x: x.pid == int(rpid))
    known = [root, env.coord.wait_agent(lambda x: x.pid == int(apid))]
    for g in range(1, 3):
        wait_lines(path, len(lines(path)) + 10, proc)
        ck = os.path.join(env.dir, "ck%d" % g)
        agents = env.coord.checkpoint_tree(known, ck, resume=False, compress="zstd 1")
        check(len(agents) == 3, lambda: [a.pid for a in agents])
        for n in os.listdir(ck):
            if n.endswith(".img"):
                check(imagefmt.read_image(os.path.join(ck, n))["compress"] == imagefmt.ZSTD, lambda: n)
        kill_agent_process(root, proc)
        for a in agents:
            a.close()
        path, f = env.log()
        proc, restored = env.coord.restart_tree(RESTORE, ck, f)
        env.procs.append(proc)
        check(sorted(restored) == sorted(a.pid for a in agents))
        known = list(restored.values())
        root = restored[min(restored)]
        wait_lines(path, 3, proc)
    out = finish(proc, path)
    sent = int(out[-1].split()[2])
    check("B got %d" % sent in out, lambda: ("records lost or repeated", out[-5:]))
    for who in ("root", "A", "B"):
        check("restarted %s 2" % who in out, lambda: (who, out[:8]))


TESTS = [test_compressed_round_trip, test_corrupt_frame_refused, test_corrupt_stored_frame_refused,
         test_area_checksum_checked_after_decompression,
         test_older_version_fields_refused, test_mixed_chain, test_tree_compressed]
