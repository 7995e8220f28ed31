"""The platform's hot paths under load, measured from outside, next to a ceiling from the same run.

    python -m deploy.bench_http                  # embedded, then PostgreSQL + RabbitMQ + Redis
    python -m deploy.bench_http --modes real --compare HEAD~5    # "before" from a git ref too
    python -m deploy.bench_http --smoke          # a few seconds per path, nothing written

Each mode boots `make run` in a scratch folder (`deploy.booted`), fills the catalog with
`--videos` processed clips, and loads each path with wrk (`-t2 -c32`, login `-c4`). The ceiling
is the same stack answering its cheapest view, `/health/live`, so every figure is also a ratio
to what this server stack does on this machine, whatever else the machine is doing. Memory
(RSS and PSS of every process) and idle CPU are read from /proc before any load.

wrk's own CPU time is reported beside each row: a load generator that needs a whole core would
be measuring itself. Without wrk (a machine that cannot install Debian's package) `--smoke`
falls back to a small Python client; the full benchmark insists on wrk.

`hot_paths` lists what is measured and the figures kept, `dataset` sets up the data it runs on,
`load` drives wrk (or the Python client), `accounting` names processes by role, `measure` runs
one mode, `report` renders the figures and `__main__` is the command line.
"""
