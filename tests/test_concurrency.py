"""Many Python threads at once, the GIL, thread counts, and Ctrl-C during a call.

tests/test_fork_and_threads.py covers forked children and a small thread pool; this
module covers many threads sharing inputs with mixed options, that other threads run
while fastctc computes, absurd thread counts, and what Ctrl-C does.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_absurd_thread_counts_do_not_kill_the_process() -> None:
    # libgomp cannot start 10**5 threads (here it died at about 3 x 10**4: exit or
    # SIGSEGV); the core starts at most 1024. A subprocess, so a regression fails
    # this test instead of killing the test run.
    script = """
        import numpy as np, fastctc
        batch = 100_000
        inputs = np.zeros((1, batch, 2), np.float32)
        labels = np.zeros((batch, 0), np.int64)
        wide = fastctc.workspace_size(inputs, labels, num_threads=batch)
        assert wide == fastctc.workspace_size(inputs, labels, num_threads=1024), wide
        loss = fastctc.ctc_loss(inputs, labels, num_threads=batch)
        assert np.all(loss == np.float32(np.log(2))), loss
        print("ok")
    """
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0 and done.stdout == "ok\n", done.stdout + done.stderr
