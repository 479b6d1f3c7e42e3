"""The command line, benchmarks, export and the deployment runtime."""
