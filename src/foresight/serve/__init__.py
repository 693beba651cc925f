"""`foresight serve`: every strategy behind an OpenAI-compatible HTTP endpoint.

A request's `model` names a strategy (`cot`, `sc@8`, `phi`, `phi-released`, ...); its search runs
as one program in a driver shared by every request in flight, so concurrent clients' searches
are batched into the same engine calls. Modules: `schemas` (the wire format), `mapping` (request
to strategy config, validated as the CLI validates), `limits` and `auth` (what keeps it safe to
expose), `host` (the long-lived driver thread), `programs` (a request as a driver program),
`responses` (bodies and stream chunks), `app` (routes), `cli` (the command).
"""
