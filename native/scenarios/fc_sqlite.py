"""A file database written after the checkpoint (--save-files): inserts numbered rows
into a sqlite3 database (journal mode JOURNAL, default WAL), one per step, keeping the next number in memory,
until TARGET; then checks the database: integrity_check ok and rows 1..TARGET, each
once. Restarted from a checkpoint without the database put back, the rows written
after the checkpoint are there already and the insert fails (IntegrityError)."""
import sqlite3
import sys
import time

db, target = sys.argv[1], int(sys.argv[2])
journal = sys.argv[3] if len(sys.argv) > 3 else "WAL"
con = sqlite3.connect(db, isolation_level=None)
con.execute(f"PRAGMA journal_mode={journal}")
con.execute("CREATE TABLE IF NOT EXISTS t(n INTEGER PRIMARY KEY, v TEXT)")
n = 0
while n < target:
    n += 1
    con.execute("INSERT INTO t(n, v) VALUES (?, ?)", (n, "x" * 200))
    print(f"row {n}", flush=True)
    time.sleep(0.05)
check = con.execute("PRAGMA integrity_check").fetchone()[0]
count, low, high = con.execute("SELECT count(*), min(n), max(n) FROM t").fetchone()
if check != "ok" or (count, low, high) != (target, 1, target):
    print(f"FAIL integrity {check} rows {count} from {low} to {high}", flush=True)
    sys.exit(1)
print(f"OK {target} rows, integrity ok", flush=True)
