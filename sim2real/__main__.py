"""``python -m sim2real`` runs the command line."""

from sim2real.cli import console_main

console_main()
