"""The errors a person can act on, as opposed to bugs, which keep their traceback."""


class BookletError(Exception):
    """A problem in the user's input or environment: printed as one line, exit 1."""

    category = 'error'


class SourceError(BookletError):
    """A problem at a place in a source file: ``path:line:col: field: message``.

    ``path`` is project-relative; ``line`` and ``col`` count from 1; ``field`` is
    the key path inside the file (``facts[3].text``) or empty for the file itself.
    """

    def __init__(self, path, line, col, field, message):
        self.path, self.line, self.col = str(path), line, col
        self.field, self.message = field, message
        super().__init__(str(self))

    def __reduce__(self):  # to and from worker processes
        return SourceError, (self.path, self.line, self.col, self.field, self.message)

    def __str__(self):
        where = f'{self.path}:{self.line}:{self.col}'
        return f'{where}: {self.field}: {self.message}' if self.field else (
            f'{where}: {self.message}')


class SourceErrors(BookletError):
    """Every problem found in a set of sources, reported together."""

    def __init__(self, errors, source=None, sources=()):
        self.errors = sorted(errors, key=lambda e: (e.path, e.line, e.col))
        #: The file the errors are in, when it could be parsed: later checks
        #: (glyphs) can still run on it, so that every error shows at once.
        self.source = source
        #: The files that could be read, as ``(source, schema)``: the same use.
        self.sources = list(sources)
        super().__init__('\n'.join(str(error) for error in self.errors))


class RenderError(BookletError):
    """An edition could not be rendered: a missing resource, an overflow."""


class UsageError(BookletError):
    """The command line asks for something that does not exist: exit 2."""
