"""The compiled parts of capture analysis, each optional: the record walk (bot/capture/_walk.c),
the header decoding (_decode.c) and the hash-table tally (_tally.c). Without a C compiler the
install still succeeds and the analysis runs the same steps in Python and numpy, with the same
results (tests compare them)."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(f"bot.capture.{name}", [f"bot/capture/{name}.c"], optional=True)
        for name in ("_walk", "_decode", "_tally")
    ]
)
