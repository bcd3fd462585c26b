"""Connectors: where tables come from besides an upload — a folder on the server, an S3 prefix, a
SQL database — and the bounded, read-only reads of one file or query from them.

    limits.py    the operator's settings (allowed folder root, S3 buckets) and per-read bounds
    records.py   create, list, get, delete (project-scoped, audited; credentials as secret refs)
    folder.py    a file under the connector's folder, confined to the operator's root
    s3.py        an object under the connector's prefix, read with the tenant's role (or one it names)
    sql.py       one read-only SELECT through SQLAlchemy, with a row cap and a statement timeout
    sqlguard.py  the statement check: one SELECT (or WITH ... SELECT), nothing that writes
    read.py      dispatch: a connector + path/query -> (file name, bytes) or raw columns
"""
