"""A matplotlib (TkAgg) animation: anim.py PAUSE_FILE STOP_FILE. While PAUSE_FILE
exists it does not draw (prints "paused" once); when STOP_FILE exists it exits 0."""
import os
import sys
import matplotlib
matplotlib.use(os.environ.get("ANIM_BACKEND", "TkAgg"))   # Agg: the same program without graphics (bench)
import matplotlib.pyplot as plt
import numpy as np
pause = sys.argv[1] if len(sys.argv) > 1 else None
stop = sys.argv[2] if len(sys.argv) > 2 else None
fig, ax = plt.subplots(figsize=(8, 5), dpi=100)
x = np.linspace(0, 4 * np.pi, 400)
line, = ax.plot(x, np.sin(x), color="#d62728", linewidth=4)
ax.fill_between(x, -1.2, -1.0, color="#1f77b4")
ax.set_ylim(-1.3, 1.3)
plt.show(block=False)
frame = 0
paused = False
while not (stop and os.path.exists(stop)):
    if pause and os.path.exists(pause):
        if not paused:
            plt.pause(0.2)                  # what was drawn last reaches the server
            print("paused at frame", frame, flush=True)
            paused = True
        plt.pause(0.05)
        continue
    paused = False
    frame += 1
    line.set_ydata(np.sin(x + frame * 0.1))
    ax.set_title("frame %d" % frame)
    plt.pause(0.05)
    if frame % 20 == 0:
        print("frame", frame, flush=True)
plt.close("all")
print("OK anim after %d frames" % frame, flush=True)
