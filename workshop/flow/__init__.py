"""The rules of a live workshop: who may do what, when, and what it changes. Pure of HTTP.

One module per subject: `access` (load or refuse, locks), `workshops` (create, open,
language, join), `phases` (the stage on screen, its phase, reveal, decide, settings,
timer), `agenda` (add, remove, move, rename stages), `items` (ideas, concepts, drafts,
comments, hide, merge), `votes` (the vote path), `invitations` (creative partners).
Input arrives checked (workshop/checks.py, by workshop/events.py or a view). Every
function that changes something commits before it returns, so whatever the caller
acknowledges is on disk. Refusals raise `Refused` and change nothing.
"""
