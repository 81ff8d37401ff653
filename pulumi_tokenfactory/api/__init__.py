"""The API client side: the HTTP client, the API's models, and the read-only queries built on them.

`client` speaks HTTP (timeouts, retries honouring Retry-After, typed errors,
secret redaction); `models` parses the API's answers tolerantly; `templates`
and `lookup` are read-only queries a program or a console command may call.
"""
