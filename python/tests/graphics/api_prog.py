"""start_graphics() from a program already running under Stasis; show_graphics() twice."""
import os
import sys
import time

import stasis

display = stasis.start_graphics(geometry="640x480")
print("display", display, os.environ.get("DISPLAY"), flush=True)
assert display is not None and os.environ["DISPLAY"] == display
assert stasis.start_graphics() == display           # twice: the same server
first = stasis.show_graphics()
second = stasis.show_graphics()
print("viewer", first, flush=True)
assert first is not None and first.startswith("http://127.0.0.1:") and "token%3D" in first
assert first == second, (first, second)
import tkinter
root = tkinter.Tk()
root.geometry("200x100+10+10")
root.configure(bg="#9467bd")
root.update()
print("drawn", flush=True)
deadline = time.time() + 60
while time.time() < deadline and not os.path.exists(sys.argv[1]):
    root.update()
    time.sleep(0.05)
root.destroy()
stasis.stop_graphics()
assert "DISPLAY" not in os.environ or os.environ["DISPLAY"] != display
print("OK api", flush=True)
