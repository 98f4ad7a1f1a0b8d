"""Leaderboards: counted votes per song, ranked; recomputed by the leaderboard worker, read through a cache.

One module per concern; import the one you need (this package imports none of them, so nothing here can
form an import circle):

    counting    the counted-vote rule and the one SQL definition of the boards
    boards      stored boards as readers get them (grouped, digested, as cache documents)
    cache       where API processes read boards from (Redis, or nothing in embedded mode); the live feed
    rules       pure: who sees which board, when the freeze begins, country codes
    snapshots   periodic snapshots and the freeze snapshot
    compute     the recompute from the vote tallies
    read        a board for a reader, one song's standing, the contest rules per process
    reports     history of the board, the results export
    integrity   the periodic recount that repairs tallies, stored and cached boards
"""
