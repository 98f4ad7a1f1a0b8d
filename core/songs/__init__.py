"""Songs: submission (a streamed upload), processing by the media worker, who may hear what, and decisions.

Life of a song (docs/uploads.md has the reasons):

    uploaded --(media worker claims it)--> processing --> approved | pending_review | rejected | duplicate
    pending_review --(moderator)--> approved | rejected;  approved --(moderator takedown)--> rejected
    uploaded | processing | approved | pending_review --(owner, before voting opens)--> withdrawn

One module per step; import the one you need (this package imports none of them):

    submission  the contestant's upload, streamed and recorded
    inspection  what reading the file tells (hash, format, probe, contest rules, fingerprint)
    verdict     duplicate and near-duplicate checks on a file that passed
    processing  the media worker's claim, verdict and record; songs the sweeper must re-request
    queries     who may see and hear which song; the lists
    decisions   withdrawal by the owner, approval and rejection by a moderator
    text        cleaning what people type
"""
