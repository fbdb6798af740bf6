# The step spawner in Python: the same helper as spawner-process.mjs, same messages, for machines
# with a system python3 (spawner.ts picks it). It exists because of how each starts a child. Node
# (libuv) forks: the kernel copies the helper's page tables (a 50 MB Node process), the child then
# tears that copy down again in exec, and every page either touches in between is copied. CPython's
# subprocess uses vfork (3.10 and later) or forks a ~10 MB process: starting bwrap + `true` 100 times
# cost 19-20 ms of CPU per start from Python against 27-30 ms from Node (perf stat task-clock over
# the whole tree, load 7, issue 18); `true` alone, 3.7-4.3 ms against 11.7-11.9 ms.
#
# Run as `python3 -I -S -B spawner-process.py` (no PYTHON* variables, no user or site packages, no
# bytecode written) with PATH alone in its environment; it imports only the standard library.
# Messages over Node's IPC channel (JSON lines on the descriptor NODE_CHANNEL_FD):
#   { t: "spawn", id, file, args, cwd, env }  from the driver: start a step in a session of its own
#     with gate: N, args[N] becomes the number of a pipe's read end the step inherits (bwrap's
#     --block-fd: the sandbox is made, then waits for the pipe before the step's command starts)
#   { t: "go", id }                           a byte down a held step's pipe: its command starts
#   { t: "drop", id }                         a held step's group is killed: it never starts
#   { t: "ready" }                            this helper runs (sent once, before anything else)
#   { t: "started", id, pid, startTime }      the step's pid and its start time (process-identity)
#   { t: "out", id, stream, data }            a piece of its stdout or stderr: the bytes in base64,
#                                             decoded by the driver exactly as the Node helper does
#   { t: "end", id, code, signal }            it exited and both its pipes are closed
#   { t: "error", id, message }               it could not be started ("spawn FILE ECODE", as Node says)
# When the driver goes away (its channel closes), the helper exits: bubblewrap's --die-with-parent
# then ends every sandboxed step, as with the Node helper.
#
# It is also a child subreaper (prctl PR_SET_CHILD_SUBREAPER, which Node cannot ask for): with
# --unshare-pid, bubblewrap's outer process exits once the pid namespace's init has reported the
# step's exit, without waiting for that init, so the init and the step's own processes were reaped
# by the machine's init and their CPU counted nowhere in the run's tree (GNU time around `tandem
# run` saw 0.51 s of 1.06 s for 50 sandboxed steps; perf stat, which follows every descendant, the
# whole). Adopted here and reaped, they count in the helper's children, hence in `tandem run`'s.
import base64
import errno
import json
import os
import re
import selectors
import signal
import subprocess
import sys

if sys.version_info < (3, 7):  # set_wakeup_fd(warn_on_full_buffer=)
    sys.exit(3)

CHANNEL = int(os.environ["NODE_CHANNEL_FD"])
os.set_blocking(CHANNEL, True)
selector = selectors.DefaultSelector()
# Node's names for the signals whose numbers Python's enum names differently (aliases).
SIGNAL_NAMES = {getattr(signal, "SIGIOT", -1): "SIGABRT", getattr(signal, "SIGPOLL", -1): "SIGIO"}
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def send(message):
    data = (json.dumps(message, separators=(",", ":")) + "\n").encode("utf-8")
    view = memoryview(data)
    while view:
        view = view[os.write(CHANNEL, view) :]


def utf8(text):
    # Node writes a lone surrogate of a JS string as U+FFFD; JSON can carry one to here.
    return LONE_SURROGATE.sub("\ufffd", text).encode("utf-8")


boot_id = None


def process_identity(pid):
    """`<boot id>:<start time>`, as process-identity.ts computes it."""
    global boot_id
    try:
        if boot_id is None:
            with open("/proc/sys/kernel/random/boot_id") as f:
                boot_id = f.read().strip()
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
        fields = stat[stat.rindex(")") + 2 :].split(" ")
        start = fields[19] if len(fields) > 19 else ""
        return "%s:%s" % (boot_id, start) if start.isdigit() else None
    except (OSError, ValueError):
        return None


def kill_group(pid, signum):
    try:
        os.killpg(pid, signum)
    except OSError:
        pass  # already gone


class Step:
    def __init__(self, id, child, gate):
        self.id = id
        self.child = child
        self.gate = gate  # the write end of a held step's pipe, until it is released or dropped
        self.open = 2
        self.exit = None  # (code, signal) once it has exited

    def close_gate(self, release):
        gate, self.gate = self.gate, None
        if gate is None:
            return
        try:
            if release:
                os.write(gate, b"g")
        except OSError:
            pass  # the sandbox is gone already: its end is reported as any other
        os.close(gate)

    def finish_if_done(self):
        if self.open == 0 and self.exit is not None:
            self.close_gate(False)
            del steps[self.id]
            send({"t": "end", "id": self.id, "code": self.exit[0], "signal": self.exit[1]})


steps = {}


def start(message):
    id = message["id"]
    file = message["file"]
    args = list(message["args"])
    gate = message.get("gate")
    read_end = write_end = None
    if isinstance(gate, int) and 0 <= gate < len(args):
        read_end, write_end = os.pipe()
        args[gate] = str(read_end)
    try:
        child = subprocess.Popen(
            [utf8(file)] + [utf8(a) for a in args],
            cwd=utf8(message["cwd"]),
            env={utf8(k): utf8(v) for k, v in message["env"].items()},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            # Node's `detached: true`: a session, so the step leads its own process group.
            start_new_session=True,
            close_fds=True,
            pass_fds=() if read_end is None else (read_end,),
        )
    except OSError as error:
        close_pipe(read_end, write_end)
        code = errno.errorcode.get(error.errno, "UNKNOWN") if error.errno else "UNKNOWN"
        send({"t": "error", "id": id, "message": "spawn %s %s" % (file, code)})
        return
    except (ValueError, TypeError) as error:
        close_pipe(read_end, write_end)
        send({"t": "error", "id": id, "message": "spawn %s: %s" % (file, error)})
        return
    close_pipe(read_end, None)
    step = Step(id, child, write_end)
    steps[id] = step
    send({"t": "started", "id": id, "pid": child.pid, "startTime": process_identity(child.pid)})
    for pipe, name in ((child.stdout, "stdout"), (child.stderr, "stderr")):
        os.set_blocking(pipe.fileno(), False)
        selector.register(pipe, selectors.EVENT_READ, (step, name))


def close_pipe(*ends):
    for end in ends:
        if end is not None:
            os.close(end)


def control(message):
    step = steps.get(message.get("id"))
    if step is None:
        return  # ended already (its end is on its way) or never started
    if message["t"] == "drop":
        kill_group(step.child.pid, signal.SIGKILL)
    step.close_gate(message["t"] == "go")


def read_output(pipe, step, name):
    try:
        chunk = os.read(pipe.fileno(), 65536)
    except BlockingIOError:
        return
    if chunk:
        send({"t": "out", "id": step.id, "stream": name, "data": base64.b64encode(chunk).decode("ascii")})
        return
    selector.unregister(pipe)
    pipe.close()
    step.open -= 1
    step.finish_if_done()


def ended(step):
    code = step.child.poll()
    if code is None:
        return
    if code < 0:
        step.exit = (None, SIGNAL_NAMES.get(-code) or signal.Signals(-code).name)
    else:
        step.exit = (code, None)
    # The step's first process is gone; whatever it left running in its group goes with it.
    kill_group(step.child.pid, signal.SIGKILL)
    step.finish_if_done()


def become_subreaper():
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except Exception:
        return False


subreaper = become_subreaper()


def reap():
    running = {}
    for step in list(steps.values()):
        if step.exit is None:
            ended(step)
        if step.exit is None:
            running[step.child.pid] = step
    # Adopted processes (see the top): reaped once they have ended. A step that ends meanwhile is
    # reaped through its Popen, so its exit status is read once, by it.
    while subreaper:
        try:
            info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return
        if info is None:
            return
        step = running.pop(info.si_pid, None)
        if step is not None:
            ended(step)
        else:
            try:
                os.waitpid(info.si_pid, 0)
            except ChildProcessError:
                pass


# SIGCHLD wakes the loop through a pipe (the handler itself does nothing).
wake_read, wake_write = os.pipe()
os.set_blocking(wake_read, False)
os.set_blocking(wake_write, False)
signal.set_wakeup_fd(wake_write, warn_on_full_buffer=False)
signal.signal(signal.SIGCHLD, lambda signum, frame: None)
selector.register(wake_read, selectors.EVENT_READ, "wake")
selector.register(CHANNEL, selectors.EVENT_READ, "channel")

# Ctrl-C reaches the helper with the driver's process group: it ends quietly, as the Node helper
# does, instead of printing a KeyboardInterrupt.
signal.signal(signal.SIGINT, signal.SIG_DFL)


def serve():
    pending = b""
    while True:
        for key, _ in selector.select():
            if key.data == "wake":
                try:
                    while os.read(wake_read, 512):
                        pass
                except BlockingIOError:
                    pass
                reap()
            elif key.data == "channel":
                data = os.read(CHANNEL, 65536)
                if not data:
                    sys.exit(0)  # the driver went away
                pending += data
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    if not line:
                        continue
                    message = json.loads(line)
                    if not isinstance(message, dict):
                        continue
                    if message.get("t") == "spawn":
                        start(message)
                    elif message.get("t") in ("go", "drop"):
                        control(message)
            else:
                step, name = key.data
                read_output(key.fileobj, step, name)
        # A child may have ended between its SIGCHLD and the handler's install, or two at one wake-up.
        reap()


try:
    send({"t": "ready"})
    serve()
except (BrokenPipeError, ConnectionResetError):
    sys.exit(0)  # the driver went away while a message was being sent
