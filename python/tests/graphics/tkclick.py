"""A Tk program that waits for a click on its one big button, then exits 0."""
import sys
import tkinter

root = tkinter.Tk()
root.geometry("320x200+0+0")
clicks = []


def clicked() -> None:
    clicks.append(1)
    print("clicked", flush=True)
    root.after(100, root.destroy)


button = tkinter.Button(root, text="click me", bg="#2ca02c", activebackground="#2ca02c", command=clicked)
button.pack(fill="both", expand=True)
root.after(500, lambda: print("waiting", flush=True))
root.mainloop()
print("OK tkclick" if clicks else "no click", flush=True)
sys.exit(0 if clicks else 1)
