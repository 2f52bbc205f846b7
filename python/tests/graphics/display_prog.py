"""Starts its own Xvnc on an explicit display (as a user might, not through
stasis.start_graphics) with a Tk window on it: display_prog.py RFB_SOCKET. Prints
"display N", then "waiting"; ends (exit 0) when its window is clicked."""
import os
import subprocess
import sys
import time
import tkinter


def free_display():
    for n in range(60, 200):
        if not os.path.exists("/tmp/.X%d-lock" % n) and not os.path.exists("/tmp/.X11-unix/X%d" % n):
            return n
    raise SystemExit("no free display")


n = free_display()
server = subprocess.Popen(["Xvnc", ":%d" % n, "-geometry", "640x480", "-rfbport", "-1", "-rfbunixpath", sys.argv[1],
                           "-SecurityTypes", "None", "-nolisten", "tcp"],
                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
while not os.path.exists(sys.argv[1]):
    if server.poll() is not None:
        raise SystemExit("Xvnc ended")
    time.sleep(0.05)
os.environ["DISPLAY"] = ":%d" % n
print("display", n, flush=True)
root = tkinter.Tk()
root.geometry("320x200+0+0")
tkinter.Button(root, text="click me", command=root.destroy).pack(fill="both", expand=True)
root.after(500, lambda: print("waiting", flush=True))
root.mainloop()
server.terminate()
server.wait()
print("OK display", flush=True)
