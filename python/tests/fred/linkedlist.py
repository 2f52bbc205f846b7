"""FReD scenario: a linked list (pairs) that grows past a limit inside a helper."""


def length(node):
    n = 0
    while node is not None:
        n += 1
        node = node[1]
    return n


def grow(head, count):
    for i in range(count):
        head = (i, head)
    return head


head = None
for step in range(6):
    head = grow(head, 3)
print("length", length(head))
