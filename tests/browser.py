"""Headless Chromium for the tests, driven by the DevTools protocol over a pipe.

``--remote-debugging-pipe`` makes Chromium read commands on fd 3 and write
answers and events on fd 4, as NUL-terminated JSON: no WebSocket, no port, no
package beyond Debian's ``chromium``. Only what the tests need is here: open a
page, wait for it to load, evaluate JavaScript in it, collect its uncaught
exceptions and failed requests.

Debian: ``apt-get install chromium`` (the tests run it with ``--no-sandbox``,
since they run as root in CI).
"""

import itertools
import json
import os
import select
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager

import pytest

CHROMIUM = shutil.which('chromium') or '/usr/bin/chromium'
#: No network beyond the page itself: no updates, sync, metrics or DNS prefetch.
FLAGS = ('--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync',
         '--disable-default-apps', '--disable-extensions', '--no-default-browser-check',
         '--disable-dev-shm-usage', '--mute-audio', '--hide-scrollbars',
         '--window-size=1280,1000', '--remote-debugging-pipe')
#: Puts the pipe's ends on fds 3 and 4 of Chromium (subprocess keeps fd numbers).
_LAUNCHER = ('import os, sys; os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4); '
             'os.execv(sys.argv[3], sys.argv[3:])')


class BrowserError(Exception):
    """Chromium answered a command with an error, or did not answer."""


class Browser:
    """One headless Chromium; :meth:`open` gives a :class:`Page`."""

    def __init__(self, profile):
        commands_read, self._commands = os.pipe()
        self._answers, answers_write = os.pipe()
        self.process = subprocess.Popen(
            [sys.executable, '-c', _LAUNCHER, str(commands_read), str(answers_write),
             CHROMIUM, *FLAGS, f'--user-data-dir={profile}', 'about:blank'],
            pass_fds=(commands_read, answers_write), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(commands_read)
        os.close(answers_write)
        self._ids = itertools.count(1)
        self._buffer = b''
        self.events = []

    def close(self):
        try:
            self.call('Browser.close', timeout=5)
        except (BrowserError, OSError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._commands)
        os.close(self._answers)

    def call(self, method, params=None, session=None, timeout=30):
        """Send a command; return its result (events meanwhile go to :attr:`events`)."""
        number = next(self._ids)
        message = {'id': number, 'method': method, 'params': params or {}}
        if session:
            message['sessionId'] = session
        os.write(self._commands, json.dumps(message).encode() + b'\0')
        deadline = time.monotonic() + timeout
        while True:
            answer = self._read(deadline)
            if answer is None:
                raise BrowserError(f'{method}: no answer in {timeout} s')
            if answer.get('id') == number:
                if 'error' in answer:
                    raise BrowserError(f'{method}: {answer["error"]}')
                return answer.get('result', {})
            self.events.append(answer)

    def pump(self, seconds):
        """Collect events for up to ``seconds``."""
        deadline = time.monotonic() + seconds
        while (message := self._read(deadline)) is not None:
            self.events.append(message)

    def _read(self, deadline):
        while b'\0' not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._answers], [], [], left)[0]:
                return None
            chunk = os.read(self._answers, 1 << 16)
            if not chunk:
                raise BrowserError(f'chromium exited ({self.process.poll()})')
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b'\0')
        return json.loads(message)

    def open(self, url, timeout=30):
        """A new tab showing ``url``, once its ``load`` event fired."""
        target = self.call('Target.createTarget', {'url': 'about:blank'})['targetId']
        session = self.call('Target.attachToTarget',
                            {'targetId': target, 'flatten': True})['sessionId']
        page = Page(self, session)
        for domain in ('Page', 'Runtime', 'Network'):
            self.call(f'{domain}.enable', session=session)
        page.goto(url, timeout)
        return page


class Page:
    """A tab: navigate, evaluate, and what went wrong in it."""

    def __init__(self, browser, session):
        self.browser, self.session = browser, session

    def goto(self, url, timeout=30):
        mark = len(self.browser.events)
        answer = self.browser.call('Page.navigate', {'url': url}, self.session)
        if answer.get('errorText'):
            raise BrowserError(f'{url}: {answer["errorText"]}')
        deadline = time.monotonic() + timeout
        while not any(e.get('method') == 'Page.loadEventFired' and
                      e.get('sessionId') == self.session for e in self.browser.events[mark:]):
            if time.monotonic() > deadline:
                raise BrowserError(f'{url}: no load event in {timeout} s')
            self.browser.pump(0.1)

    def evaluate(self, expression):
        """The value of a JavaScript expression (promises awaited), as JSON data."""
        answer = self.browser.call('Runtime.evaluate', {
            'expression': expression, 'returnByValue': True, 'awaitPromise': True},
            self.session)
        if 'exceptionDetails' in answer:
            raise BrowserError(f'{expression}: {answer["exceptionDetails"]}')
        return answer['result'].get('value')

    def wait_for(self, expression, timeout=30):
        """Poll until ``expression`` is truthy; return its value."""
        deadline = time.monotonic() + timeout
        while not (value := self.evaluate(expression)):
            if time.monotonic() > deadline:
                raise BrowserError(f'still false after {timeout} s: {expression}')
            self.browser.pump(0.2)
        return value

    def _events(self, method):
        return [e['params'] for e in self.browser.events
                if e.get('method') == method and e.get('sessionId') == self.session]

    @property
    def exceptions(self):
        """Uncaught JavaScript exceptions, as text."""
        return [e['exceptionDetails'].get('exception', {}).get('description')
                or e['exceptionDetails'].get('text') for e in self._events(
                    'Runtime.exceptionThrown')]

    @property
    def failed_requests(self):
        """Requests that failed or got an HTTP error: ``[(url, reason)]``."""
        urls = {e['requestId']: e['request']['url']
                for e in self._events('Network.requestWillBeSent')}
        failed = [(urls.get(e['requestId'], '?'), e.get('errorText'))
                  for e in self._events('Network.loadingFailed')
                  if not e.get('canceled')]
        failed += [(e['response']['url'], e['response']['status'])
                   for e in self._events('Network.responseReceived')
                   if e['response'].get('status', 200) >= 400]
        return failed

    def images(self):
        """Each ``<img>``: its URL, and whether it loaded into a real picture."""
        return self.evaluate(
            'Array.from(document.images).map(i => ({src: i.currentSrc || i.src, '
            'loaded: i.complete && i.naturalWidth > 0, width: i.naturalWidth, '
            'shown: i.getBoundingClientRect().width > 0}))')

    def links(self):
        """The absolute URL of every ``<a href>``."""
        return self.evaluate('Array.from(document.links).map(a => a.href)')


@contextmanager
def chromium(profile):
    """A :class:`Browser` with its profile in ``profile``; fails clearly without Chromium."""
    if not os.path.exists(CHROMIUM):
        pytest.fail('chromium is not installed: tools/system-deps.sh installs it '
                    '(Debian: apt-get install chromium)')
    browser = Browser(profile)
    try:
        browser.call('Browser.getVersion', timeout=60)
        yield browser
    finally:
        browser.close()
