"""The capacity report's arithmetic: saturation knee, scalability fit, SLO verdicts, capacity.

Pure functions of numbers the renderer extracts from result files; nothing here reads a run,
the clock or the environment, so every answer the report prints can be pinned by a test.
"""
