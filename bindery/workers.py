"""Build editions in worker processes, each under a time and a memory limit.

A layout that loops, explodes into thousands of pages or decodes a pixel bomb
then fails its own edition, with a message saying which limit it hit, while the
other editions are built.

Workers are forked from a *fork server*, a process started for the purpose
with WeasyPrint imported and no thread running, never from the builder itself:
``render.py serve`` runs threads (HTTP, watcher, builder), and a process forked
from a threaded one can inherit a lock some other thread held, and hang.
"""

import ctypes
import ctypes.util
import multiprocessing.util
import os
import resource
import shutil
import signal
import tempfile
import threading
import traceback
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool

from .editions import Result, keep_last_good
from .pipeline import build_edition

#: Address space one worker may use, in bytes. A normal edition needs ~300 MB.
MEMORY_LIMIT = 2 * 1024 ** 3
#: How much longer than TIME_LIMIT to wait for a worker stuck where the alarm
#: cannot reach it (inside C code) before killing it.
GRACE = 30


class _TimeLimit(BaseException):
    """Raised in a worker by the alarm; a BaseException so no ``except Exception``
    in a library swallows it."""


#: What the fork server imports once, before it forks any worker.
PRELOAD = ['weasyprint', 'pikepdf', 'pypdfium2', 'bindery.pipeline', 'bindery.pdf']


#: The name of a worker's temporary folder, before its process id.
TEMP_PREFIX = 'bindery-worker-'


def _start_worker(memory):
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    _die_with_parent()
    import weasyprint  # noqa: F401  (imported by the fork server already)

    # WeasyPrint copies the fonts of each font configuration to a temporary
    # folder (4.5 MB for nine-facts'), removed when the configuration goes: a
    # worker killed (kill -9, the time limit) would leave it. Everything a
    # worker makes there goes into a folder named by its process id, which the
    # next build removes once that process is gone (sweep_temporary).
    folder = os.path.join(tempfile.gettempdir(), f'{TEMP_PREFIX}{os.getpid()}')
    os.makedirs(folder, mode=0o700, exist_ok=True)
    tempfile.tempdir = folder
    # Workers end through os._exit: only multiprocessing's finalizers run.
    multiprocessing.util.Finalize(None, _end_worker, args=(folder,), exitpriority=0)


def _end_worker(folder):
    from . import pdf

    pdf.forget_fonts()
    shutil.rmtree(folder, ignore_errors=True)


def sweep_temporary():
    """Remove the temporary folders of workers that are gone (killed before they
    could remove their own); a folder whose process still runs is left alone."""
    try:
        names = os.listdir(tempfile.gettempdir())
    except OSError:
        return
    for name in names:
        pid = name[len(TEMP_PREFIX):]
        if not name.startswith(TEMP_PREFIX) or not pid.isdigit():
            continue
        if not _running(int(pid)):
            shutil.rmtree(os.path.join(tempfile.gettempdir(), name), ignore_errors=True)


def _running(pid):
    """Whether process ``pid`` runs: it exists, and is no zombie (a killed worker
    stays one until the system reaps it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it runs, as another user
    try:
        with open(f'/proc/{pid}/stat', 'rb') as stat:
            return stat.read().rsplit(b')', 1)[1].split()[0] != b'Z'
    except (OSError, IndexError):
        return True  # no /proc to ask: taken to run


def _die_with_parent():
    """On Linux, have the kernel kill this worker when the build that started it is
    killed (kill -9 leaves no orphan finishing an edition nobody waits for; the
    next build then removes its temporary files)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6', use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the orphan finishes its edition, then exits


def _on_alarm(signum, frame):
    raise _TimeLimit


def _failed(task, message, trace=''):
    root, booklet, layout, country, lang, out = task[:6]
    name = f'{country}/{lang}'
    errors = [f'{name}: {message}']
    kept = keep_last_good(out, booklet, name, errors)
    return Result(booklet.name, name, errors=errors, stale=bool(kept), trace=trace,
                  files={key: str(path) for key, path in kept.items()})


def _build_limited(task, seconds):
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(seconds)
    stopped = (f'took longer than {seconds} s and was stopped: does the layout loop, or '
               'make thousands of pages?')
    fired = False
    try:
        try:
            result = build_edition(*task)
        finally:
            # 0 left: the alarm went off. Whatever the stopped render said after
            # it (a library that catches every exception and logs "Failed to
            # render SVG image", an error raised from ours), the limit is the cause.
            fired = seconds > 0 and signal.alarm(0) == 0
    except _TimeLimit:
        return _failed(task, stopped)
    except MemoryError:
        return _failed(task, f'needed more than {MEMORY_LIMIT // 1024 ** 3} GB of memory '
                             'and was stopped: a huge picture, or thousands of pages?')
    except Exception as exc:  # a bug: it fails this edition, not the run
        if fired:
            return _failed(task, stopped)
        return _failed(task, f'internal error ({type(exc).__name__}: {exc}): a bug in '
                             'bindery, please report it with this line (and --debug '
                             'shows its traceback)', traceback.format_exc())
    finally:
        signal.alarm(0)
    if fired:
        # Stopped, whether it failed or claimed success: something swallowed
        # the alarm, and what it made cannot be trusted.
        return _failed(task, stopped)
    return result


def start(jobs, memory=MEMORY_LIMIT):
    """A pool of ``jobs`` workers, started now: they import WeasyPrint while the
    caller prepares their tasks. Pass it to :func:`build_all`.

    Starting them waits until the fork server has imported what it preloads
    (half a second): a thread waits for it, while the caller loads the layouts.
    """
    sweep_temporary()
    pool = _pool(jobs, memory)
    # Forks the workers; the pool's own lock orders it before any other submit.
    threading.Thread(target=pool.submit, args=(int,), daemon=True).start()
    return pool


def _pool(jobs, memory):
    context = multiprocessing.get_context('forkserver')
    context.set_forkserver_preload(PRELOAD)
    return ProcessPoolExecutor(max_workers=jobs, mp_context=context,
                               initializer=_start_worker, initargs=(memory,))


def build_all(tasks, jobs, advance, seconds, memory=MEMORY_LIMIT, pool=None):
    """Build every task (the arguments of :func:`build_edition`) in ``jobs`` workers;
    call ``advance(result)`` as each finishes; return the results in task order.

    A worker stuck past the time limit is killed and its edition fails. A worker
    that dies (the system's out-of-memory killer) breaks the pool without saying
    which edition killed it: the rest are then built one worker at a time, so
    the one that kills its worker again is the one that fails. ``pool``, from
    :func:`start`, is used first (and shut down).
    """
    results = {}
    pending = list(range(len(tasks)))
    isolate = False
    while pending:
        pool = pool or _pool(1 if isolate else jobs, memory)
        with pool:
            futures = {index: pool.submit(_build_limited, tasks[index], seconds)
                       for index in pending}
            for index in pending:
                broken = False
                try:
                    result = futures[index].result(timeout=seconds + GRACE)
                except FutureTimeout:
                    result = _failed(tasks[index], f'did not finish in {seconds} s and its '
                                                   'worker was killed')
                    for process in list(pool._processes.values()):
                        process.kill()  # the pool cannot cancel a running task
                    broken = True
                except BrokenProcessPool:
                    if not isolate:
                        isolate = True
                        break  # build what is left one at a time
                    result = _failed(tasks[index], 'its worker died (killed by the '
                                                   'system: out of memory?)')
                    broken = True
                results[index] = result
                advance(result)
                if broken:
                    break  # a new pool for the rest
            pending = [index for index in pending if index not in results]
        pool = None
    return [results[index] for index in range(len(tasks))]


class PreviewWorker:
    """One worker process kept for ``serve``'s previews: WeasyPrint imported and
    the fonts loaded once, so that a preview costs one layout. Under the same
    time and memory limits as the build's workers; a worker stopped by them is
    replaced for the next preview."""

    def __init__(self, memory=MEMORY_LIMIT):
        self.memory, self.pool = memory, None

    def run(self, function, *args, seconds):
        """``function(*args)`` in the worker; raises :class:`TimeoutError` (the
        worker is killed) or :class:`BrokenProcessPool` (it died)."""
        if self.pool is None:
            self.pool = _pool(1, self.memory)
        future = self.pool.submit(function, *args)
        try:
            return future.result(timeout=seconds)
        except FutureTimeout:
            self.close(kill=True)
            raise TimeoutError(f'took longer than {seconds} s and was stopped') from None
        except BrokenProcessPool:
            self.close(kill=True)
            raise

    def close(self, kill=False):
        pool, self.pool = self.pool, None
        if pool is not None:
            if kill:
                for process in list(pool._processes.values()):
                    process.kill()
            pool.shutdown(wait=not kill, cancel_futures=True)
