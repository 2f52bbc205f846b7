"""FReD scenario: threads run while the user stays in the main thread."""
import threading

results = []
lock = threading.Lock()


def worker(k):
    total = sum(range(k * 1000))
    with lock:
        results.append(total)


threads = [threading.Thread(target=worker, args=(k,)) for k in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
count = len(results)
count = count * 2
print("threads done", count)
