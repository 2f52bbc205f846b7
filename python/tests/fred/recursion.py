"""FReD scenario: deep recursion, and a buggy function stepped over."""


def fact(n):
    if n <= 1:
        return 1
    return n * fact(n - 1)


def buggy(values):
    result = 0
    for v in values:
        result += v
    result = -result
    return result


answer = buggy([1, 2, 3])
deep = fact(12)
print("answer", answer, "deep", deep)
