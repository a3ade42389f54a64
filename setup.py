"""The one compiled part, optional: the pcap record walk (bot/capture/_walk.c). Without a C
compiler the install still succeeds and capture analysis uses the same walk in Python."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("bot.capture._walk", ["bot/capture/_walk.c"], optional=True)])
