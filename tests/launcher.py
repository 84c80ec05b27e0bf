"""Run ``python render.py ARGS`` without paying for the interpreter's start each time.

A *launcher* process imports bindery (all of it), WeasyPrint and the rest of
what a run of render.py imports, once, and never starts a thread. For each run
it forks a child that becomes what ``python render.py ARGS`` would be in the
fixture project: its own process (and, when asked, its own session, so that a
test may kill its whole process group), the project as its working folder and
as ``sys.path[0]``, the environment it is given (``tempfile`` forgets the
temporary folder it may have chosen), stdin from /dev/null, stdout and stderr
into files, an address-space cap when asked; then it runs the project's
``render.py`` as ``__main__`` (``runpy``), so the exit code, the output and a
traceback are the interpreter's own, and the interpreter's normal exit (atexit,
the worker pool's shutdown) ends it. The build's workers come from one fork
server the launcher starts (the modules a build's pool preloads, imported
once; an empty working folder, as conftest's fork server of in-process
builds), when the child's environment is the launcher's: the workers are then
not in the child's process group, and each sets its own time and memory
limits, as any worker does. With another environment the child's pool starts
a fork server of its own, as render.py does.

What differs from a fresh interpreter: the child's own modules, and its
workers', come from the repository, not from the project's copy (identical,
unless a test edits the project's bindery/: such a test runs render.py
itself), and every child has the launcher's hash seed (the byte-for-byte determinism tests build with fresh
interpreters).

The launcher reads one JSON request per line on stdin and answers on stdout:
``{"id": N, "pid": P}`` when the child is started, ``{"pid": P, "status": S}``
when it has ended (S the exit code, or minus the signal that killed it, as
:mod:`subprocess` says it). :class:`Launcher` is the test side: thread-safe, one
per test process, started when first used.
"""

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

#: What the launcher imports before it forks: render.py's own imports, and the
#: modules a build or a check imports on the way.
PRELOAD = ('weasyprint', 'pikepdf', 'pypdfium2', 'PIL.Image', 'fontTools.ttLib', 'jinja2',
           'lxml.etree', 'pyphen', 'yaml', 'rich.console', 'rich.table', 'rich.progress',
           'concurrent.futures.process', 'multiprocessing.forkserver')


# The launcher process --------------------------------------------------------------

def _preload():
    import importlib
    import pkgutil

    sys.path.insert(0, str(ROOT))
    import bindery

    for name in PRELOAD:
        importlib.import_module(name)
    for module in pkgutil.iter_modules(bindery.__path__):
        importlib.import_module(f'bindery.{module.name}')
    sys.path.remove(str(ROOT))
    if threading.active_count() != 1:
        raise RuntimeError(f'importing bindery started a thread: {threading.enumerate()}; '
                           'the launcher cannot fork safely')


def _child(request, wakeup):
    """In the forked child: become ``python render.py ARGS`` in the project."""
    import resource
    import runpy
    import signal
    import tempfile

    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    for fd in wakeup:
        os.close(fd)
    _use_fork_server(request['env'])
    if request.get('session'):
        os.setsid()
    cwd = request['cwd']
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(request['env'])
    tempfile.tempdir = None  # chosen again, from this environment's TMPDIR
    if request.get('address_space'):
        limit = int(request['address_space'])
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    null = os.open(os.devnull, os.O_RDONLY)
    out = os.open(request['stdout'], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    err = os.open(request['stderr'], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    for source, target in ((null, 0), (out, 1), (err, 2)):
        os.dup2(source, target)
        os.close(source)
    script = os.path.join(cwd, 'render.py')
    sys.argv = [script, *request['args']]
    # As for `python render.py`: the script's folder first, then the interpreter's
    # own (not this file's folder, nor the launcher's working folder).
    sys.path[:] = [cwd] + [path for path in sys.path if path not in ('', str(HERE))]
    runpy.run_path(script, run_name='__main__')
    raise SystemExit(0)  # render.py returned without exiting


#: The environment the launcher's fork server was started with, if it runs,
#: and its working folder (removed when the launcher ends).
_FORK_SERVER_ENV = {}
_FORK_SERVER_FOLDER = []


def _start_fork_server():
    """Start the fork server the children's build workers come from, once, as a
    build's pool would (the same modules preloaded), in an empty folder of its
    own, with the launcher's environment: each ``python render.py`` starts its
    own, half a CPU-second spent importing WeasyPrint for every build."""
    import multiprocessing
    import tempfile
    from multiprocessing import forkserver

    from bindery import workers

    cwd = os.getcwd()
    sys.path.insert(0, str(ROOT))  # what the fork server imports bindery from
    try:
        _FORK_SERVER_FOLDER.append(tempfile.mkdtemp(prefix='launcher-fork-server-'))
        os.chdir(_FORK_SERVER_FOLDER[0])
        multiprocessing.get_context('forkserver').set_forkserver_preload(workers.PRELOAD)
        forkserver.ensure_running()
    finally:
        sys.path.remove(str(ROOT))
        os.chdir(cwd)
    _FORK_SERVER_ENV.update(os.environ)


def _use_fork_server(env):
    """In a child: build with the launcher's fork server if its workers would
    have the child's environment; else forget it, and the child's pool starts
    its own, as ``python render.py`` does."""
    from multiprocessing import forkserver

    server = forkserver._forkserver
    if server._forkserver_pid is None:
        return
    if relevant(env) == relevant(_FORK_SERVER_ENV):
        # It is the launcher's child, not this one's: nothing to wait for.
        server.ensure_running = lambda: None
        return
    os.close(server._forkserver_alive_fd)
    server._forkserver_pid = server._forkserver_address = None
    server._forkserver_alive_fd = None


def relevant(env):
    """An environment but for the name of the test pytest is running."""
    return {name: value for name, value in env.items() if name != 'PYTEST_CURRENT_TEST'}


def serve():
    """The launcher's loop: fork a child per request, report when each ends."""
    import select
    import signal

    _preload()
    _start_fork_server()
    import gc
    gc.collect()
    gc.freeze()  # the children need not copy the pages of what is imported to collect it
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    signal.set_wakeup_fd(wake_w)
    os.write(1, b'{"ready": true}\n')
    pending = b''
    while True:
        ready, _, _ = select.select([0, wake_r], [], [])
        if wake_r in ready:
            try:
                while os.read(wake_r, 4096):
                    pass
            except BlockingIOError:
                pass
        if 0 in ready:
            data = os.read(0, 1 << 16)
            if not data:  # the tests are done; running children finish on their own
                import shutil

                for folder in _FORK_SERVER_FOLDER:
                    shutil.rmtree(folder, ignore_errors=True)
                return
            pending += data
            *lines, pending = pending.split(b'\n')
            for line in lines:
                request = json.loads(line)
                pid = os.fork()
                if pid == 0:
                    _child(request, (wake_r, wake_w))  # never returns
                os.write(1, json.dumps({'id': request['id'], 'pid': pid}).encode() + b'\n')
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            code = (-os.WTERMSIG(status) if os.WIFSIGNALED(status)
                    else os.WEXITSTATUS(status))
            os.write(1, json.dumps({'pid': pid, 'status': code}).encode() + b'\n')


# The test side ------------------------------------------------------------------

class Child:
    """A run started by the launcher: like a :class:`subprocess.Popen` of it."""

    def __init__(self, launcher, pid, stdout, stderr):
        self._launcher, self.pid = launcher, pid
        self.stdout_path, self.stderr_path = stdout, stderr
        self.returncode = None

    def poll(self):
        if self.returncode is None:
            self.returncode = self._launcher._status(self.pid, 0)
        return self.returncode

    def wait(self, timeout=None):
        if self.returncode is None:
            self.returncode = self._launcher._status(self.pid, timeout)
            if self.returncode is None:
                raise subprocess.TimeoutExpired(f'render.py (pid {self.pid})', timeout)
        return self.returncode

    def output(self):
        """``(stdout, stderr)`` as bytes, once the child has ended."""
        return Path(self.stdout_path).read_bytes(), Path(self.stderr_path).read_bytes()

    def communicate(self, timeout=None):
        """Wait for the end (:class:`subprocess.TimeoutExpired` after ``timeout``
        seconds); ``(stdout, stderr)`` as bytes."""
        self.wait(timeout)
        return self.output()


class Launcher:
    """The test side: starts the launcher process, sends requests, collects statuses."""

    def __init__(self, env):
        boot = (f'import sys; sys.path.insert(0, {str(HERE)!r}); '
                'import launcher; launcher.serve()')
        self.process = subprocess.Popen([sys.executable, '-c', boot], cwd=ROOT, env=env,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        first = self.process.stdout.readline()
        if json.loads(first or b'{}').get('ready') is not True:
            raise RuntimeError(f'the launcher did not start: {first!r}')
        self._lock = threading.Condition()
        self._next = 0
        self._pids, self._statuses = {}, {}
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.process.stdout:
            message = json.loads(line)
            with self._lock:
                if 'status' in message:
                    self._statuses[message['pid']] = message['status']
                else:
                    self._pids[message['id']] = message['pid']
                self._lock.notify_all()
        with self._lock:
            self._closed = True
            self._lock.notify_all()

    def start(self, args, cwd, env, stdout, stderr, session=False, address_space=None):
        """Start ``render.py ARGS`` in ``cwd``; returns a :class:`Child`."""
        with self._lock:
            self._next += 1
            number = self._next
            request = {'id': number, 'args': [str(a) for a in args], 'cwd': str(cwd),
                       'env': dict(env), 'stdout': str(stdout), 'stderr': str(stderr),
                       'session': session, 'address_space': address_space}
            self.process.stdin.write(json.dumps(request).encode() + b'\n')
            self.process.stdin.flush()
            while number not in self._pids:
                self._wait_for_launcher()
            return Child(self, self._pids.pop(number), stdout, stderr)

    def _status(self, pid, timeout):
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while pid not in self._statuses:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return None
                self._wait_for_launcher(left)
            return self._statuses.pop(pid)

    def _wait_for_launcher(self, timeout=None):
        if getattr(self, '_closed', False):
            raise RuntimeError('the launcher has stopped')
        self._lock.wait(timeout)

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=30)
