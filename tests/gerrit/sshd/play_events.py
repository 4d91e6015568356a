"""ForceCommand of the test sshd: plays recorded ``gerrit stream-events`` lines.

    play_events.py CONTROL_DIR

CONTROL_DIR holds ``events.jsonl`` (the recorded lines) and ``plan.json``:
``{"sessions": [{"start": 0, "stop": 4, "partial": "{\\"type\\": \\"comm",
"delay": 0.0, "then": "drop" | "hold", "hold": 30}, ...]}``. Connection N
plays session N (the last one repeats): lines start..stop, then optionally
the first bytes of a line, then drops the connection (exit) or holds it
open. Each connection records its command in ``session-N``.
"""
import json
import os
import sys
import time

control = sys.argv[1]
with open(os.path.join(control, "events.jsonl"), "rb") as handle:
    lines = handle.read().split(b"\n")
if lines and lines[-1] == b"":
    lines.pop()
with open(os.path.join(control, "plan.json"), encoding="utf-8") as handle:
    sessions = json.load(handle)["sessions"]

number = 0
while True:  # claim a session number atomically
    try:
        fd = os.open(os.path.join(control, f"session-{number}"),
                     os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        break
    except FileExistsError:
        number += 1
os.write(fd, os.environ.get("SSH_ORIGINAL_COMMAND", "").encode())
os.close(fd)

session = sessions[min(number, len(sessions) - 1)]
out = sys.stdout.buffer
for line in lines[session.get("start", 0):session.get("stop")]:
    out.write(line + b"\n")
    out.flush()
    if session.get("delay"):
        time.sleep(session["delay"])
if session.get("partial"):
    out.write(session["partial"].encode())
    out.flush()
if session.get("then", "hold") == "hold":
    time.sleep(session.get("hold", 60))
sys.exit(0)
