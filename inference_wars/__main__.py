"""``python -m inference_wars``: the command line (:mod:`inference_wars.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
