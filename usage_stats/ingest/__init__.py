"""Ingest: request scope, validation and COPY encoding (`encoding`), the BatchWriter
(`writer`), the queue and flusher (`collector`), this process's collector (`process`) and
the middleware. The bottom stage: it imports no other stage."""
