"""The pure slot engine: schedules in, slots, holes and soonest slots out.

Nothing here reads a clock, a table or the network; `now` and time zones are arguments.
"""
