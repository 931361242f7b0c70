# No Celery here: a web worker that only serves pages does not load it (issue 19; ~7 MiB per worker).
# The app (ccass_portal/celery.py) is loaded by the task modules, which import it before any task
# is sent or run, and by `celery -A ccass_portal` (bin/worker, bin/beat), which finds it there.
