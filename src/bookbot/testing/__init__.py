"""First-class fakes for tests, benchmarks and `bookbot try`: the Bot API emulator, clocks.

Nothing here imports the rest of bookbot: the fakes stand in for the world outside it.
"""
