"""Path redirection seen from plain Python (t_redirect.py, RedirectIT).

py_redirect.py OLD SIBLING ROUNDS: OLD is a directory the test moves away after the
checkpoint and restarts with a redirect OLD -> its new place; SIBLING (OLD + "c")
stays where it is and must not be redirected. The program keeps an sqlite connection
and a log file in OLD open across the checkpoint; after each restart (ROUNDS of
them) it checks that every way Python names a file finds OLD's content, writes
there, and prints "checked N"; then "OK". Any failure prints "FAIL what" and exits 1.
"""
import ctypes
import os
import pathlib
import sqlite3
import subprocess
import sys
import threading
import time


def restarts():
    return ctypes.CDLL(None).stasis_restart_count()


def fail(what):
    print("FAIL", what, flush=True)
    sys.exit(1)


def expect(cond, what):
    if not cond:
        fail(what)


def in_thread(old):
    box = []
    t = threading.Thread(target=lambda: box.append(open(os.path.join(old, "f.txt")).read()))
    t.start()
    t.join()
    return box == ["hello\n"]


def in_fork(old):
    pid = os.fork()
    if pid == 0:
        ok = os.path.isfile(os.path.join(old, "f.txt")) and open(os.path.join(old, "f.txt")).read() == "hello\n"
        os._exit(0 if ok else 3)
    return os.waitpid(pid, 0)[1] == 0


def check(old, sibling, db, log, n):
    f = os.path.join(old, "f.txt")
    expect(open(f).read() == "hello\n", "open")
    expect(os.stat(f).st_size == 6, "os.stat")
    expect(os.path.isdir(old) and os.path.exists(f), "os.path")
    expect(set(os.listdir(old)) >= {"f.txt", "db.sqlite", "log.txt"}, "os.listdir %s" % os.listdir(old))
    expect(any(e.name == "f.txt" for e in os.scandir(old)), "os.scandir")
    p = pathlib.Path(old) / "f.txt"
    expect(p.read_text() == "hello\n" and p.exists(), "pathlib")
    expect(pathlib.Path(old).resolve() == pathlib.Path(old), "pathlib.resolve")
    expect(os.path.isfile(os.path.join(sibling, "s.txt")), "sibling redirected (component boundary)")
    expect(not os.path.exists(os.path.join(sibling, "f.txt")), "sibling sees OLD's files")
    db.execute("insert into t values (?)", ("after restart %d" % n,))
    db.commit()
    again = sqlite3.connect(os.path.join(old, "db.sqlite"))
    rows = [r[0] for r in again.execute("select v from t")]
    again.close()
    expect(rows[0] == "before" and rows[-1] == "after restart %d" % n, "sqlite3 %s" % rows)
    new = os.path.join(old, "new%d.txt" % n)
    with open(new, "w") as w:
        w.write("written %d\n" % n)
    os.rename(new, new + ".moved")
    expect(os.path.exists(new + ".moved") and not os.path.exists(new), "os.rename")
    os.mkdir(os.path.join(old, "sub%d" % n))
    os.rmdir(os.path.join(old, "sub%d" % n))
    cwd = os.getcwd()
    os.chdir(os.path.dirname(old))
    expect(open(os.path.join(os.path.basename(old), "f.txt")).read() == "hello\n", "relative path")
    os.chdir(old)
    expect(open("f.txt").read() == "hello\n", "chdir")
    os.chdir(cwd)
    expect(in_thread(old), "thread")
    expect(in_fork(old), "forked child")
    out = subprocess.run(["/bin/cat", f], capture_output=True, text=True)
    expect(out.returncode == 0 and out.stdout == "hello\n", "exec'd child: %r" % (out.stderr,))
    out = subprocess.run([sys.executable, "-c", "import os,sys; sys.exit(0 if os.path.isfile(%r) else 5)" % f])
    expect(out.returncode == 0, "exec'd python child")
    log.write("restart %d\n" % n)
    log.flush()


def main():
    old, sibling, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    db = sqlite3.connect(os.path.join(old, "db.sqlite"))
    db.execute("create table if not exists t (v text)")
    db.execute("insert into t values ('before')")
    db.commit()
    log = open(os.path.join(old, "log.txt"), "a")
    log.write("started\n")
    log.flush()
    print("ready", flush=True)
    for n in range(1, rounds + 1):
        while restarts() < n:
            time.sleep(0.02)
        try:
            check(old, sibling, db, log, n)
        except OSError as e:
            fail("%s: %s" % (type(e).__name__, e))
        print("checked", n, flush=True)
    print("OK redirect", flush=True)


main()
