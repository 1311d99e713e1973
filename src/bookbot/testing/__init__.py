"""First-class fakes for tests, benchmarks and `bookbot try`: the emulator, clocks, a Sender.

They stand in for the world outside bookbot. The Bot API emulator and the clocks import
nothing of bookbot; the recording Sender knows only notify/sender.py's plain values, the
protocol it satisfies.
"""
