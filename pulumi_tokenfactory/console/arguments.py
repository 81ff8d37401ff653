"""The argument parser of every command (`tokenfactory-account`, `tokenfactory-adopt`, `tokenfactory-emulator`).

Only argparse is imported here: the emulator's `--help` and argument errors stay instant.
"""

from __future__ import annotations

import argparse
from typing import NoReturn


class OneLineParser(argparse.ArgumentParser):
    """An `ArgumentParser` whose refusal is one line on stderr, exit status 2 as argparse's.

    Argparse prints its usage block first (a dozen lines for the emulator), burying the line that names the
    argument at fault, and a CI log or a wrapper script that keeps one line of stderr keeps the wrong one.
    """

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")
