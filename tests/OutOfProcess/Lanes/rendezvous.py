"""rendezvous: a test program of the Python kit's lanes (tests/OutOfProcess/KitLaneTests.cs), as rendezvous.c:
AtomicT on 4 lanes, atomic_inc_return(v) waits (up to 20 s) until v callers have arrived and answers how many
it saw (-1 when it gave up), so it answers >= v on every lane only if the kit runs lanes at the same time."""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "kits", "python"))
import kmm  # noqa: E402


class Rendezvous(kmm.Kernel):
    name = "rendezvous"
    cpus = 4

    def boot(self, profile):
        self.arrived = 0
        self.counter = 0
        self.lock = threading.Condition()

    def atomic_inc_return(self, v):
        with self.lock:
            self.arrived += 1
            self.lock.notify_all()
            deadline = time.monotonic() + 20
            while self.arrived < v:
                if not self.lock.wait(deadline - time.monotonic()):
                    return -1
            return self.arrived

    def _add(self, i):
        with self.lock:
            self.counter += i
            return self.counter

    def atomic_counters(self): return 1
    def atomic_read(self, v): return self._add(0)
    def atomic_set(self, v, i): self._add(i - self.counter)
    def atomic_add(self, i, v): self._add(i)
    def atomic_sub(self, i, v): self._add(-i)
    def atomic_inc(self, v): self._add(1)
    def atomic_dec(self, v): self._add(-1)
    def atomic_add_return(self, i, v): return self._add(i)
    def atomic_sub_return(self, i, v): return self._add(-i)
    def atomic_dec_return(self, v): return self._add(-1)
    def atomic_sub_and_test(self, i, v): return self._add(-i) == 0
    def atomic_dec_and_test(self, v): return self._add(-1) == 0
    def atomic_inc_and_test(self, v): return self._add(1) == 0
    def atomic_add_negative(self, i, v): return self._add(i) < 0


if __name__ == "__main__":
    sys.exit(kmm.run(Rendezvous()))
