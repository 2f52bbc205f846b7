"""FReD scenario: a linked list that grows past a limit inside a helper."""


class Node:
    def __init__(self, value, rest):
        self.value = value
        self.rest = rest


def length(node):
    n = 0
    while node is not None:
        n += 1
        node = node.rest
    return n


def grow(head, count):
    for i in range(count):
        head = Node(i, head)
    return head


head = None
for step in range(6):
    head = grow(head, 3)
print("length", length(head))
