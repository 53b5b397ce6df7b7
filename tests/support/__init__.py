"""What the tests (and the benchmarks in bench/) share: the repository's paths,
real documents in every format, and the one way to run a live server."""
