"""Runs commands for bench/run.ts and reports what the kernel measured for each: wall time, user and system CPU
time and peak RSS, from wait4(2) (microsecond CPU times; CPU and peak RSS include every descendant the child
waited for, e.g. the `aws` and `jq` of a shell pipeline; peak RSS is that of the largest single process).

Protocol: one JSON request per line on stdin {"argv", "env", "cwd", "stdout", "stderr"} (output paths), one JSON
answer per line on stdout {"code", "wallMs", "userMs", "sysMs", "maxRssKiB"}. One helper process serves a whole run,
so the measurement adds no interpreter start-up to any sample.
"""

import json
import os
import sys
import time

for line in sys.stdin:
    req = json.loads(line)
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, req["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
        (os.POSIX_SPAWN_OPEN, 2, req["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
    ]
    os.chdir(req["cwd"])
    started = time.perf_counter()
    pid = os.posix_spawnp(req["argv"][0], req["argv"], req["env"], file_actions=actions)
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - started
    answer = {
        "code": os.waitstatus_to_exitcode(status),
        "wallMs": wall * 1000,
        "userMs": ru.ru_utime * 1000,
        "sysMs": ru.ru_stime * 1000,
        "maxRssKiB": ru.ru_maxrss,
    }
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
