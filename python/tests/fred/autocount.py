"""FReD scenario: the seed's autocount: a counter over a loop."""
import sys

num = 0
total = 0


def bump(value):
    return value + 1


while num < int(sys.argv[1] if len(sys.argv) > 1 else 20):
    num = bump(num)
    total += num
    if num == 10:
        print("num reached", num)
print("num", num, "total", total)
