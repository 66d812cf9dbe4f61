"""`slimline slim`: a minimal image built from an existing one, proven to behave the same.

- probes.py: what to ask the app (commands, HTTP requests, the user's own script)
- trace.py: the host's strace, injected into the container, and its output parsed
- run.py: one run of an image under the probes, traced or not
- plan.py, static.py, safety.py, elf.py: what to keep, per mode
- pkgdb.py: the package databases rewritten to list what remains
- layer.py, archive.py, load.py: the one layer written, the image around it, and the engine
  steps (load, tag, remove)
- verify.py: expectations from the original's runs, and a candidate compared with them
- pipeline.py: the whole run; result.py: what it reports
"""
