"""The command line, training and evaluation, export, sim2sim, videos and benchmarks."""
