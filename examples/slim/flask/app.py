"""A Flask service from Debian's python3-flask.

GET /health          -> {"status": "ok"}
GET /greet/<name>    -> JSON rendered by the Jinja template templates/greeting.json

Listens on 127.0.0.1:8102 (PORT overrides) with Werkzeug's server; stops at once on SIGTERM.
"""

import os
import signal
import sys

from flask import Flask, jsonify, render_template

app = Flask(__name__)

LANGUAGES = ["Danish", "Esperanto", "Occitan"]


@app.get("/health")
def health():  # type: ignore[no-untyped-def]
    return jsonify(status="ok")


@app.get("/greet/<name>")
def greet(name: str):  # type: ignore[no-untyped-def]
    body = render_template("greeting.json", name=name, languages=LANGUAGES)
    return app.response_class(body, mimetype="application/json")


if __name__ == "__main__":
    # PID 1 in a container gets no default SIGTERM action: without a handler it is ignored.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app.run(host="127.0.0.1", port=int(os.environ.get("PORT", "8102")))
