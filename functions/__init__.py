"""Lambda entry points. A package so that `functions.<name>.handler.handler` is the handler string
and tests import handlers the way Lambda does."""
