"""Use cases by noun: each opens one unit of work, asks the engine, and writes through the store.

Entry points (the chat, the command line, the web page, delivery) call these with who is
asking; the rules themselves live in engine/ (a booking's life in engine/bookings.py).
"""
