"""FReD scenario: outside input (randomness without a seed): replay diverges."""
import os

n = int.from_bytes(os.urandom(2), "little") % 50 + 5
for i in range(n):
    n = n
print("done", n)
