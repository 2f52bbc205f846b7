# A module in Cython's pure-Python mode (.py compiled by cythonize) whose interpreted
# version misbehaves in interval `bad`: it crashes (SIGSEGV) or hangs. Compiled, it
# only adds. Used to test that crashed and hung checkers are never reported ok.
import os
import signal
import time

import cython


def chunk(acc, i, action, bad):
    if not cython.compiled and i == bad:
        if action == "crash":
            os.kill(os.getpid(), signal.SIGSEGV)
        elif action == "hang":
            while True:
                time.sleep(1)
    return acc + i
